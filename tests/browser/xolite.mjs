#!/usr/bin/env node
// XO Lite served by the gateway itself (--www ../shared/xo-lite/www), driven in Debian's headless
// Chromium through playwright-core: log in, visit every view, fail on console errors caused by the
// gateway's answers, JSON-RPC errors, non-2xx requests, and views still busy or in an error
// state after a bound; screenshots of each view go to BUILD_DIR/browser-artifacts/.
// Then the pool dashboard's time to interactive with 1,000 sim VMs.
//
// node xolite.mjs BUILD_DIR            (ctest: label browser)
// Exit 77 (skip) only when ../shared/xo-lite is absent. XG_BROWSER_TTI_VMS=0 skips the TTI phase.
// With XG_E2E_URL (the real-Xen stage: the gateway in dom0 serves XO Lite itself): log in and
// load the pool and host dashboards under the same rules; no VM is made, no TTI phase.
// XG_BROWSER_ARTIFACTS: where the screenshots go (default BUILD_DIR/browser-artifacts).
//
// Views of classes the gateway does not serve yet (storage, network: other issues) are reported
// as pending on that class instead of failing, as long as the only errors are those classes'
// MESSAGE_METHOD_UNKNOWN and the cards about them; once the class is served they are checked
// like the rest.
import fs from 'node:fs'
import https from 'node:https'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const www = path.resolve(here, '..', '..', '..', 'shared', 'xo-lite', 'www')
if (!fs.existsSync(path.join(www, 'index.html'))) {
  console.log(`SKIP: no XO Lite bundle at ${www}`)
  process.exit(77)
}
if (!fs.existsSync(path.join(here, 'node_modules', 'playwright-core'))) {
  console.error('tests/browser/node_modules is missing: run `npm ci` in tests/browser (tools/test.sh does)')
  process.exit(1)
}
const chromiumPath = process.env.XG_CHROMIUM ?? '/usr/bin/chromium'
if (!fs.existsSync(chromiumPath)) {
  console.error(`${chromiumPath} is missing: apt-get install chromium (tools/deps.sh does)`)
  process.exit(1)
}
if (process.argv[2] && process.env.XG_BUILD_DIR === undefined) process.env.XG_BUILD_DIR = process.argv[2]

// the gateway under test has a self-signed certificate; this process only talks to loopback
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'
process.removeAllListeners('warning')

const { chromium } = await import('playwright-core')
const { startGateway } = await import('../xo/gateway.mjs')

const REMOTE = Boolean(process.env.XG_E2E_URL)
const ARTIFACTS = process.env.XG_BROWSER_ARTIFACTS ?? path.join(process.env.XG_BUILD_DIR ?? '.', 'browser-artifacts')
fs.rmSync(ARTIFACTS, { recursive: true, force: true })
fs.mkdirSync(ARTIFACTS, { recursive: true })
const SCALE = Number(process.env.XG_TIME_SCALE ?? 1) || 1
const VIEW_BOUND_MS = 30e3 * SCALE  // hang guard: a view still busy after this is stuck
const TTI_VMS = REMOTE ? 0 : Number(process.env.XG_BROWSER_TTI_VMS ?? 1000)
// the host plugins the product ships (updater.py: the Patches card)
const PLUGINS = path.join(here, '..', '..', 'tools', 'plugins')

// XO Lite bugs that a real XCP-ng host triggers too, with why they are not the gateway's:
const XO_LITE_OWN = [
  // XoaButton reduces pool.other_config's `xo:clientInfo:*` entries without an initial value:
  // throws on every host no Xen Orchestra has connected to yet.
  /Reduce of empty array with no initial value/,
]

const failures = []
let lastPage = null                  // the page phase 1 drives, for its failure report
const pending = new Set()
const fail = msg => {
  failures.push(msg)
  console.log(`FAIL ${msg}`)
}

// Screenshots are artifacts: one that times out on a loaded machine is noted, not a failure.
async function shot(page, file) {
  await page.screenshot({ path: file, timeout: 60e3 * SCALE })
    .catch(e => console.log(`note: no screenshot ${path.basename(file)}: ${e.message.split('\n')[0]}`))
}

// Status of a WebSocket upgrade request (fetch cannot send one): 404 = no such endpoint.
function upgradeStatus(url) {
  return new Promise(resolve => {
    const rq = https.request(url, {
      rejectUnauthorized: false,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    })
    rq.on('upgrade', (res, socket) => { socket.destroy(); resolve(101) })
    rq.on('response', res => { res.resume(); resolve(res.statusCode) })
    rq.on('error', () => resolve(0))
    rq.end()
  })
}

async function rpc(url, method, params) {
  const r = await fetch(`${url}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method, params }),
  })
  const j = await r.json()
  if (j.error) throw new Error(`${method}: ${j.error.message} ${JSON.stringify(j.error.data)}`)
  return j.result
}

// Ready when the host has ≥ 4 five-second samples: XO Lite averages the last four (a host that
// has been up for 20 s, as any real one has).
async function waitForSamples(gw, session, hostUuid) {
  const deadline = Date.now() + 60e3 * SCALE
  while (Date.now() < deadline) {
    const start = Math.floor(Date.now() / 1000) - 60
    const r = await fetch(`${gw.url}/rrd_updates?start=${start}&host=true&json=true&cf=AVERAGE&interval=5` +
      `&session_id=${encodeURIComponent(session)}`)
    if (r.ok) {
      const d = await r.json()
      const col = d.meta.legend.indexOf(`AVERAGE:host:${hostUuid}:memory_free_kib`)
      const filled = d.data.filter(row => row.values[col] !== 'NaN' && row.values[col] !== null).length
      if (col >= 0 && filled >= 4) return
    }
    await new Promise(res => setTimeout(res, 1000))
  }
  throw new Error('the host never had four metric samples')
}

function served(listMethods) {
  return new Set(listMethods.filter(m => m.endsWith('.get_all_records')).map(m => m.split('.')[0]))
}

// What a view or card needs that another issue is building.
const PENDING_RULES = [
  { classes: ['SR', 'PBD', 'VDI', 'VBD'], view: /\/(storage|vdis)$/, card: /storage|disk|vdi/i },
  { classes: ['network', 'PIF', 'VIF', 'Bond', 'PIF_metrics'], view: /\/network$/, card: /network|interface|pif|vif/i },
]

async function openBrowser(gw) {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] })
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 2400 } })
  const page = await ctx.newPage()
  // XO Lite builds its chart and probe URLs from host.address with no port (a real host serves
  // it on 443): in the test, send those to the gateway's own port. Never done by the product.
  const origin = new URL(gw.url)
  await page.route(u => u.protocol === 'https:' && u.port === '', route => {
    const u = new URL(route.request().url())
    u.hostname = origin.hostname
    u.port = origin.port
    route.continue({ url: u.href })
  })
  return { browser, page }
}

// Requests the page has sent and not seen answered (for the failure report: a view left blank
// with no error is waiting on one of them).
function inflightReport(log) {
  const now = Date.now()
  return [...log.inflight.values()].map(r => `${r.what} (${((now - r.at) / 1000).toFixed(0)} s)`)
}

function watch(page, servedClasses, log) {
  log.inflight = new Map()
  page.on('request', r => {
    const body = r.url().endsWith('/jsonrpc') ? ` ${r.postDataJSON()?.method ?? ''}` : ''
    log.inflight.set(r, { what: `${r.method()} ${r.url().slice(0, 120)}${body}`, at: Date.now() })
  })
  page.on('requestfinished', r => log.inflight.delete(r))
  page.on('requestfailed', r => log.inflight.delete(r))
  page.on('console', m => {
    if (m.type() !== 'error') return
    log.console.push(m.text())
  })
  page.on('pageerror', e => log.console.push(`pageerror: ${e.message}`))
  page.on('requestfailed', r => {
    // navigation aborts of superseded fetches are the browser's doing
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return
    log.http.push(`${r.method()} ${r.url().slice(0, 160)}: ${r.failure()?.errorText}`)
  })
  page.on('response', async r => {
    const st = r.status()
    if ((st < 200 || st >= 300) && st !== 304) log.http.push(`${st} ${r.request().method()} ${r.url().slice(0, 160)}`)
    if (!r.url().endsWith('/jsonrpc')) return
    const req = r.request().postDataJSON()
    const body = await r.json().catch(() => null)
    if (body?.error) {
      const cls = req.method.replace(/^Async\./, '').split('.')[0]
      if (body.error.message === 'MESSAGE_METHOD_UNKNOWN' && !servedClasses.has(cls)) {
        pending.add(cls)
        log.unserved.add(cls)
      } else {
        log.rpc.push(`${req.method} -> ${body.error.message} ${JSON.stringify(body.error.data).slice(0, 200)}`)
      }
    }
  })
}

// Busy and error states on the page, each with the title of its card.
async function states(page) {
  return page.evaluate(() => {
    const out = []
    const visible = el => el.getClientRects().length > 0
    for (const el of document.querySelectorAll('.vts-state-hero, .ui-card.has-error')) {
      if (!visible(el)) continue
      const busy = el.classList.contains('vts-state-hero') && el.querySelector('.loader')
      const error = el.classList.contains('error') || el.classList.contains('has-error')
      if (!busy && !error) continue
      const card = el.closest('.ui-card')
      const heading = card?.querySelector('.ui-card-title') ?? card
      const title = heading?.innerText?.trim().split('\n')[0] ?? ''
      out.push({ kind: busy ? 'busy' : 'error', title: title.trim() })
    }
    return out
  })
}

function pendingFor(view, title, servedClasses) {
  for (const rule of PENDING_RULES) {
    const missing = rule.classes.filter(c => !servedClasses.has(c))
    if (missing.length === 0) continue
    if (rule.view.test(view) || (title && rule.card.test(title))) return missing.join('/')
  }
  return null
}

// The pool dashboard's Patches card shows what the host's updater plugin (the shipped one, run
// through host.call_plugin) answers: "Patches up to date" or each package it lists.
async function checkPatchesCard(page, gw, session, poolUuid) {
  const hostRef = (await rpc(gw.url, 'host.get_all', [session]))[0]
  const patches = JSON.parse(await rpc(gw.url, 'host.call_plugin', [session, hostRef, 'updater.py', 'check_update', {}]))
  await page.goto(`${gw.url}/#/pool/${poolUuid}/dashboard`)
  const expected = patches.length === 0 ? ['Patches up to date'] : [`${patches.length} missing`, patches[0].name]
  let text = ''
  const deadline = Date.now() + VIEW_BOUND_MS
  while (Date.now() < deadline) {
    await page.waitForTimeout(500)
    text = await page.evaluate(() => [...document.querySelectorAll('.ui-card')]
      .map(c => c.innerText).find(t => /^\s*Patches/.test(t)) ?? '')
    if (expected.every(e => text.includes(e))) break
  }
  if (expected.every(e => text.includes(e))) {
    console.log(`ok   Patches card: ${patches.length ? `${patches.length} packages to update` : 'up to date'}`)
  } else {
    fail(`Patches card does not show ${JSON.stringify(expected)}: ${JSON.stringify(text.slice(0, 300))}; ` +
      `requests in flight: ${JSON.stringify(inflightReport(page.__log))}; ` +
      `console: ${JSON.stringify(page.__log.console.slice(-10))}`)
  }
}

async function visit(page, gw, view, servedClasses, action) {
  const log = page.__log
  const before = { console: log.console.length, http: log.http.length, rpc: log.rpc.length }
  log.unserved = new Set()
  await page.goto(`${gw.url}/#${view}`)
  await page.waitForTimeout(300)
  if (await page.$('input[type=password]')) {
    fail(`${view}: shows the login form`)
    return
  }
  if (action) await action(page)
  const deadline = Date.now() + VIEW_BOUND_MS
  let st
  let settledAt = null
  for (;;) {
    await page.waitForTimeout(500)
    st = (await states(page)).filter(s => pendingFor(view, s.title, servedClasses) === null)
    // settled: no busy or error state for 2 s in a row (cards load one after the other)
    if (st.length === 0) {
      settledAt ??= Date.now()
      if (Date.now() - settledAt >= 2000) break
    } else {
      settledAt = null
    }
    if (Date.now() > deadline) break
  }
  // pool_dashboard.png, vm_console.png…: one file per view, whatever the uuids
  const file = path.join(ARTIFACTS, view.replace(/^\/([a-z]+)\/[0-9a-f-]{36}\//, '$1_').replace(/[^a-z0-9_]+/gi, '_') + '.png')
  await shot(page, file)
  const problems = []
  for (const s of st) problems.push(`${s.kind} state${s.title ? ` in card "${s.title}"` : ''} after ${VIEW_BOUND_MS / 1000} s`)
  for (const m of log.rpc.slice(before.rpc)) problems.push(`JSON-RPC error ${m}`)
  for (const m of log.http.slice(before.http)) problems.push(`HTTP ${m}`)
  for (const m of log.console.slice(before.console)) {
    if (XO_LITE_OWN.some(re => re.test(m))) continue
    // an unserved class's MESSAGE_METHOD_UNKNOWN is logged by XO Lite's store too
    if (/MESSAGE_METHOD_UNKNOWN/.test(m) && log.unserved.size > 0) continue
    if (/Failed to load resource/.test(m)) continue          // counted by the response hook
    problems.push(`console: ${m.split('\n')[0].slice(0, 300)}`)
  }
  const waiting = [...new Set((await states(page)).map(s => pendingFor(view, s.title, servedClasses)).filter(Boolean))]
  if (problems.length) for (const p of problems) fail(`${view}: ${p}`)
  else console.log(`ok   ${view}${waiting.length ? ` (cards waiting for unserved ${waiting.join(', ')})` : ''}`)
}

async function login(page, gw) {
  await page.goto(`${gw.url}/`)
  await page.waitForSelector('input[type=password]', { timeout: 30e3 })
  await page.fill('input[type=password]', gw.password)
  // "keep me logged in": the session is remembered and checked on reload
  // (session.get_all_subject_identifiers)
  await page.click('.fake-checkbox')
  await page.keyboard.press('Enter')
  await page.waitForURL(/#\/(pool|host)\//, { timeout: 30e3 })
}

// The new-VM form end to end: a template, PXE install, a disk on the default SR and the default
// network, booted after creation; then the VM must exist, be a VM (not a template), have its disk
// and interface, and run.
async function newVm(page, gw, session) {
  const log = page.__log
  const before = { console: log.console.length, http: log.http.length, rpc: log.rpc.length }
  const name = 'browser-made-vm'
  await page.goto(`${gw.url}/#/vm/new`)
  await page.locator('.vts-select .ui-input').first().click({ timeout: 20e3 * SCALE })
  await page.locator('.ui-dropdown', { hasText: 'Generic Linux HVM' }).first().click()
  await page.locator('label.ui-radio-button', { hasText: 'PXE' }).click()
  await page.locator('.vts-input-wrapper', { hasText: 'VM name' }).locator('input').fill(name)
  // the form's two "New" buttons: network interfaces, then storage
  await page.locator('button', { hasText: 'New' }).nth(1).click()
  await shot(page, path.join(ARTIFACTS, 'vm_new_form.png'))
  await page.locator('button[type=submit]', { hasText: 'Create' }).click()
  await page.waitForURL(/#\/vm\/[0-9a-f-]{36}\//, { timeout: 60e3 * SCALE })
  const deadline = Date.now() + 60e3 * SCALE
  let vm
  while (Date.now() < deadline) {
    const recs = await rpc(gw.url, 'VM.get_all_records', [session])
    vm = Object.values(recs).find(v => v.name_label === name)
    if (vm?.power_state === 'Running') break
    await page.waitForTimeout(500)
  }
  await page.waitForTimeout(2000)
  await shot(page, path.join(ARTIFACTS, 'vm_new_created.png'))
  const startErr = log.rpc.slice(before.rpc).find(m => /^VM\.start -> VM_IS_TEMPLATE/.test(m))
  const provisionPending = Boolean(vm && vm.is_a_template && startErr)
  if (provisionPending) {
    // XAPI's VM.provision clears is_a_template; the hardening issue (11) brings that
    log.rpc.splice(before.rpc)
    pending.add('VM.provision clearing is_a_template (issue 11): the new VM could not start')
  } else if (!vm) {
    fail(`new VM: no VM named ${name} after Create`)
  } else {
    if (vm.is_a_template) fail('new VM: still a template')
    if (vm.power_state !== 'Running') fail(`new VM: ${vm.power_state}, not Running`)
    const vbds = await Promise.all(vm.VBDs.map(r => rpc(gw.url, 'VBD.get_record', [session, r])))
    if (!vbds.some(b => b.type === 'Disk')) fail('new VM: no disk')
    if (vm.VIFs.length !== 1) fail(`new VM: ${vm.VIFs.length} VIFs`)
  }
  const consoleNow = log.console.slice(before.console)
  // XO Lite opens the new VM's dashboard before it calls VM.start (new-vm page: create, route,
  // then start), so its stats fetch meets a Halted VM and throws; the failed fetch's result is
  // then mapped as undefined. A real XCP-ng host sees the same. Excused only here, and only
  // when the VM did come up.
  const openedHalted = consoleNow.some(m => /is halted or host could not be found/.test(m))
  const problems = [
    ...log.rpc.slice(before.rpc).map(m => `JSON-RPC error ${m}`),
    ...log.http.slice(before.http).map(m => `HTTP ${m}`),
    ...consoleNow.filter(m => !XO_LITE_OWN.some(re => re.test(m)) &&
      !/Failed to load resource/.test(m) &&
      !(provisionPending && /is halted or host could not be found|VM_IS_TEMPLATE/.test(m)) &&
      !(vm?.power_state === 'Running' && openedHalted &&
        /is halted or host could not be found/.test(m)) &&
      // the same page rendered before the event poll (every 2 s) brought the new VM's records:
      // seen only on a loaded machine, with every answer of the gateway correct. Noted with
      // its first frame so that it stays visible.
      !(vm?.power_state === 'Running' && /reading 'map'/.test(m) &&
        (console.log(`note: new VM page: ${m.split('\n').slice(0, 2).join(' ').slice(0, 300)}`), true)))
      .map(m => `console: ${m.split('\n').slice(0, 2).join(' ').slice(0, 300)}`),
  ]
  for (const p of problems) fail(`new VM: ${p}`)
  if (!problems.length && vm && !vm.is_a_template) console.log(`ok   new VM form: ${name} created with a disk and a VIF, Running`)
}

// ---- phase 1: every view -------------------------------------------------------------------
const gw = await startGateway({ simVms: 3, extraArgs: ['--www', www, '--plugin-dir', PLUGINS] })
let browser
try {
  const session = await rpc(gw.url, 'session.login_with_password', [gw.user, gw.password])
  const servedClasses = served(await rpc(gw.url, 'system.listMethods', []))
  const pool = Object.values(await rpc(gw.url, 'pool.get_all_records', [session]))[0]
  const host = Object.values(await rpc(gw.url, 'host.get_all_records', [session]))[0]
  const vms = Object.values(await rpc(gw.url, 'VM.get_all_records', [session]))
  const vm = vms.find(v => v.power_state === 'Running' && !v.is_control_domain && !v.is_a_template)
  await waitForSamples(gw, session, host.uuid)

  const opened = await openBrowser(gw)
  browser = opened.browser
  const page = opened.page
  page.__log = { console: [], http: [], rpc: [], unserved: new Set() }
  lastPage = page
  watch(page, servedClasses, page.__log)
  await login(page, gw)
  console.log('ok   login')

  // reload keeps the session (session.get_all_subject_identifiers)
  await page.reload()
  await page.waitForTimeout(3000)
  if (await page.$('input[type=password]')) fail('reload logged the user out')
  else console.log('ok   reload keeps the session')

  const views = REMOTE ? [`/pool/${pool.uuid}/dashboard`, `/host/${host.uuid}/dashboard`] : [
    ...['dashboard', 'alarms', 'stats', 'system', 'network', 'storage', 'tasks', 'hosts', 'vms']
      .map(v => `/pool/${pool.uuid}/${v}`),
    ...['dashboard', 'system', 'network', 'storage', 'tasks', 'vms'].map(v => `/host/${host.uuid}/${v}`),
    ...['dashboard', 'alarms', 'stats', 'system', 'network', 'vdis', 'tasks'].map(v => `/vm/${vm.uuid}/${v}`),
    '/settings',
  ]
  for (const v of views) await visit(page, gw, v, servedClasses)
  await checkPatchesCard(page, gw, session, pool.uuid)
  // the dashboard's alarms card loads the message class on demand
  await visit(page, gw, `/pool/${pool.uuid}/dashboard`, servedClasses, async p => {
    await p.getByRole('button', { name: 'Load now' }).click({ timeout: 10e3 * SCALE })
  })
  // the real-Xen stage stops at the dashboards: no VM made on the machine, no console
  if (!REMOTE) {
    await newVm(page, gw, session)
    // consoles last: noVNC's teardown logs into whatever view comes next. The console transport
    // (/console over WebSocket) is another issue's: until the gateway serves it, not judged.
    const consoleServed = (await upgradeStatus(`${gw.url}/console`)) !== 404
    if (consoleServed) {
      await visit(page, gw, `/host/${host.uuid}/console`, servedClasses)
      await visit(page, gw, `/vm/${vm.uuid}/console`, servedClasses)
    } else {
      pending.add('/console (WebSocket)')
    }
  }
} catch (e) {
  fail(`phase 1: ${e.stack ?? e}` +
    (lastPage ? `; requests in flight: ${JSON.stringify(inflightReport(lastPage.__log))}` : ''))
} finally {
  await browser?.close()
  const ex = await gw.stop()
  if (ex !== null && ex.code !== 0) fail(`gateway exit ${JSON.stringify(ex)}\n${gw.log().slice(-3000)}`)
}

// ---- phase 2: time to interactive of the pool dashboard with many VMs ------------------------
if (TTI_VMS > 0) {
  const big = await startGateway({ simVms: TTI_VMS, extraArgs: ['--www', www, '--plugin-dir', PLUGINS] })
  let b2
  try {
    const opened = await openBrowser(big)
    b2 = opened.browser
    const page = opened.page
    const t0 = Date.now()
    await login(page, big)
    // interactive: the status card counts every VM (all records fetched and rendered)
    await page.waitForFunction(n => /TOTAL\s*\n?\s*/.test(document.body.innerText) &&
      [...document.querySelectorAll('.ui-card')].some(c => c.innerText.includes(String(n))),
    TTI_VMS, { timeout: 120e3 * SCALE, polling: 100 })
    const tti = Date.now() - t0
    // an artifact only: a screenshot of 1,000 rows may be slow on a loaded machine
    await page.screenshot({ path: path.join(ARTIFACTS, `pool-dashboard-${TTI_VMS}-vms.png`),
      timeout: 120e3 * SCALE }).catch(e => console.log(`note: no TTI screenshot: ${e.message.split('\n')[0]}`))
    console.log(`TTI pool dashboard with ${TTI_VMS} sim VMs: ${(tti / 1000).toFixed(2)} s (login submitted -> status card counts every VM)`)
  } catch (e) {
    fail(`phase 2: ${e.stack ?? e}`)
  } finally {
    await b2?.close()
    await big.stop()
  }
}

if (pending.size) console.log(`note: classes not served yet (their views/cards were not judged): ${[...pending].join(', ')}`)
console.log(`screenshots: ${ARTIFACTS}`)
if (failures.length) {
  console.log(`${failures.length} failure(s)`)
  process.exit(1)
}
console.log('all views ok')
