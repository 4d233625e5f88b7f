// Starts the real xapi-gateway for the Node tests (same rules as tests/e2e/gateway.py):
// binary at $XG_BINARY or $XG_BUILD_DIR/xapi-gateway, 127.0.0.1 on a free port, temp state dir,
// sim driver. With $XG_E2E_URL (+ $XG_E2E_PASSWORD) an already-running gateway is used instead.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

export const REMOTE = Boolean(process.env.XG_E2E_URL)

// Time bounds in tests are hang guards, never latency assertions (issue 22): every one goes
// through scaled() so that $XG_TIME_SCALE (default 1; the sanitizer stage and CI raise it)
// stretches them all. Same rule as tests/e2e/gateway.py.
export const TIME_SCALE = Math.max(1, Number(process.env.XG_TIME_SCALE) || 1)
export const scaled = ms => ms * TIME_SCALE

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

export function findBinary() {
  if (process.env.XG_BINARY) return process.env.XG_BINARY
  if (process.env.XG_BUILD_DIR) return path.join(process.env.XG_BUILD_DIR, 'xapi-gateway')
  return undefined
}

export async function startGateway({ simVms = 3, simDelayMs = 200, extraArgs = [] } = {}) {
  if (REMOTE) {
    return {
      url: process.env.XG_E2E_URL,
      user: process.env.XG_E2E_USER ?? 'root',
      password: process.env.XG_E2E_PASSWORD ?? '',
      log: () => '',
      stop: async () => null,
    }
  }
  const binary = findBinary()
  if (binary === undefined || !fs.existsSync(binary)) {
    throw new Error(`xapi-gateway binary not found (XG_BINARY / XG_BUILD_DIR): ${binary}`)
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xg-xo-'))
  const stateDir = path.join(tmp, 'state')
  fs.mkdirSync(stateDir)
  const port = await freePort()
  const password = 'xo-Secret-pw'
  const args = ['--https', `127.0.0.1:${port}`, '--state-dir', stateDir, '--driver', 'sim',
    '--sim-vms', String(simVms), '--sim-delay-ms', String(simDelayMs), '--log-level', 'info',
    ...extraArgs]
  const child = spawn(binary, args, {
    env: { ...process.env, XAPI_GATEWAY_ROOT_PASSWORD: password },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  const want = `listening on https://127.0.0.1:${port}`
  let exited = null
  const exitP = new Promise(resolve => child.on('exit', (code, signal) => {
    exited = { code, signal }
    resolve(exited)
  }))
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`gateway did not log "${want}" within ${scaled(30)} s\n${log}`))
    }, scaled(30e3))
    const onData = d => {
      log += d
      if (log.includes(want)) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    exitP.then(e => {
      clearTimeout(timer)
      reject(new Error(`gateway exited (${JSON.stringify(e)}) before listening\n${log}`))
    })
  })
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    stateDir,
    user: 'root',
    password,
    log: () => log,
    async stop() {
      if (exited === null) {
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), scaled(20e3))
        await exitP
        clearTimeout(t)
      }
      if (exited.code === 0) fs.rmSync(tmp, { recursive: true, force: true })
      return exited
    },
  }
}
