// End-to-end tests with the real Xen Orchestra client (npm xen-api, pinned in package-lock.json),
// used the way xo-server uses it (packages/xo-server/src/xo-mixins/xen-servers.mjs).
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Xapi } from 'xen-api'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'

import { REMOTE, scaled, startGateway } from './gateway.mjs'

const SIM_VMS = 3
let gw

const clients = []
const eventErrors = []
function makeClient(opts = {}) {
  const xapi = new Xapi({
    url: gw.url,
    allowUnauthorized: true,
    auth: { user: gw.user, password: gw.password },
    watchEvents: false,
    eventPollDelay: 5e3, // xo-server: 60 s; shorter so that a failing test ends sooner
    ...opts,
  })
  xapi.on('eventFetchingError', error => eventErrors.push(error))
  clients.push(xapi)
  return xapi
}

async function connectAndWatch(opts) {
  const xapi = makeClient(opts)
  await xapi.connect()
  xapi.watchEvents()
  await withTimeout(xapi.objectsFetched, 30e3, 'objectsFetched')
  return xapi
}

// fails as soon as the client's event loop reports an error (it would otherwise pause 60 s);
// ms is a hang guard, scaled by $XG_TIME_SCALE
function withTimeout(promise, ms, what) {
  ms = scaled(ms)
  let t, iv
  return Promise.race([
    promise.finally(() => {
      clearTimeout(t)
      clearInterval(iv)
    }),
    new Promise((resolve, reject) => {
      t = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms)
      iv = setInterval(() => {
        if (eventErrors.length > 0) {
          clearInterval(iv)
          reject(new Error(`event loop error while waiting for ${what}: ${eventErrors[0]?.stack ?? eventErrors[0]}`))
        }
      }, 100)
    }),
  ])
}

const vmsOf = xapi => Object.values(xapi.objects.all).filter(o => o.$type === 'VM')
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

async function newVm(xapi, name) {
  // a VM.create struct as XO would send it (ints are numbers; XML-RPC turns them into strings)
  return xapi.call('VM.create', {
    name_label: name, name_description: '', user_version: 1, is_a_template: false,
    affinity: 'OpaqueRef:NULL', memory_static_max: 268435456, memory_dynamic_max: 268435456,
    memory_dynamic_min: 268435456, memory_static_min: 134217728, VCPUs_params: {}, VCPUs_max: 1,
    VCPUs_at_startup: 1, actions_after_shutdown: 'destroy', actions_after_reboot: 'restart',
    actions_after_crash: 'restart', PV_bootloader: '', PV_kernel: '', PV_ramdisk: '', PV_args: '',
    PV_bootloader_args: '', PV_legacy_args: '', HVM_boot_policy: 'BIOS order',
    HVM_boot_params: { order: 'cd' }, platform: { 'cores-per-socket': '1' }, PCI_bus: '',
    other_config: {}, recommendations: '',
  })
}

process.on('unhandledRejection', error => {
  // the client's event loop dies with an unhandled TypeError when a record/event is malformed
  eventErrors.push(error)
})

before(async () => {
  gw = await startGateway({ simVms: SIM_VMS })
})

after(async () => {
  for (const xapi of clients) {
    await xapi.disconnect().catch(() => {})
  }
  // clients may keep sockets or timers alive (the event loop of a disconnected client waits forever)
  setTimeout(() => process.exit(), 3000).unref()
  if (gw === undefined) return
  const exit = await gw.stop()
  if (exit !== null) assert.deepEqual(exit, { code: 0, signal: null }, `gateway exit on SIGTERM\n${gw.log()}`)
})

for (const transport of ['auto', 'json-rpc', 'xml-rpc']) {
  describe(`connect with transport ${transport}`, () => {
    test('connect, fetch every advertised type, objects match get_all_records', async () => {
      const xapi = await connectAndWatch({ transport })
      assert.equal(xapi.status, 'connected')
      assert.ok(xapi.pool, 'pool')
      assert.match(xapi.pool.$ref, /^OpaqueRef:/)
      const master = xapi.getObjectByRef(xapi.pool.master)
      assert.equal(master.$type, 'host')
      assert.ok(master.software_version.platform_version)
      assert.equal(xapi.getObjectByRef(master.metrics).$type, 'host_metrics')

      const vms = vmsOf(xapi)
      const refs = await xapi.call('VM.get_all')
      assert.deepEqual(vms.map(vm => vm.$ref).sort(), [...refs].sort())
      const dom0 = vms.filter(vm => vm.is_control_domain)
      assert.equal(dom0.length, 1)
      assert.equal(dom0[0].power_state, 'Running')
      assert.equal(+dom0[0].domid, 0)
      // $resident_on exists only if the first VM's resident_on looked like a ref
      assert.equal(dom0[0].$resident_on?.$ref, master.$ref)
      assert.equal(dom0[0].$metrics?.$type, 'VM_metrics')
      if (!REMOTE) {
        assert.equal(vms.filter(vm => !vm.is_control_domain && !vm.is_a_template).length, SIM_VMS)
      }
      for (const vm of vms) {
        assert.equal(typeof vm.uuid, 'string')
        assert.equal(vm.$id, vm.uuid)
        assert.ok(vm.platform['cores-per-socket'] !== undefined, 'cores-per-socket on every VM')
      }
      const types = new Set(Object.values(xapi.objects.all).map(o => o.$type))
      for (const t of ['pool', 'host', 'host_metrics', 'VM', 'VM_metrics']) assert.ok(types.has(t), t)
      assert.deepEqual(eventErrors, [])
    })
  })
}

describe('with events (json-rpc auto transport)', () => {
  let xapi
  before(async () => {
    xapi = await connectAndWatch({})
  })

  test('barrier() returns', async () => {
    await withTimeout(xapi.barrier(), 15e3, 'barrier')
    const poolRef = xapi.pool.$ref
    const obj = await withTimeout(xapi.barrier(poolRef), 15e3, 'barrier(ref)')
    assert.equal(obj.$ref, poolRef)
    assert.deepEqual(eventErrors, [])
  })

  test('update_other_config (remove_from + add_to) is seen through events', async () => {
    await xapi.pool.update_other_config('xo:e2e', 'v1')
    await withTimeout(xapi.barrier(), 15e3, 'barrier')
    assert.equal(xapi.pool.other_config['xo:e2e'], 'v1')
    await xapi.pool.update_other_config('xo:e2e', 'v2')
    await withTimeout(xapi.barrier(), 15e3, 'barrier')
    assert.equal(xapi.pool.other_config['xo:e2e'], 'v2')
    await xapi.pool.update_other_config('xo:e2e', null)
    await withTimeout(xapi.barrier(), 15e3, 'barrier')
    assert.equal(xapi.pool.other_config['xo:e2e'], undefined)
  })

  test('XapiError codes and params', async () => {
    await assert.rejects(xapi.call('VM.get_record', 'OpaqueRef:00000000-0000-0000-0000-000000000000'), {
      code: 'HANDLE_INVALID', params: ['VM', 'OpaqueRef:00000000-0000-0000-0000-000000000000'],
    })
    await assert.rejects(xapi.call('VM.no_such_message'), { code: 'MESSAGE_METHOD_UNKNOWN', params: ['VM.no_such_message'] })
  })

  test('callAsync lifecycle; another client changes power states and the watcher sees them', { skip: REMOTE && 'sim only', timeout: scaled(120e3) }, async () => {
    const actor = await connectAndWatch({ transport: 'xml-rpc' })
    const ref = await newVm(actor, 'xo-e2e-lifecycle')
    const seen = []
    const onChange = objects => {
      for (const o of Object.values(objects)) {
        if (o.$ref === ref && seen.at(-1) !== o.power_state) seen.push(o.power_state)
      }
    }
    xapi.objects.on('add', onChange)
    xapi.objects.on('update', onChange)
    try {
      await withTimeout(xapi.barrier(), 15e3, 'barrier')
      const waitState = async state => {
        await withTimeout(
          (async () => {
            while (xapi.getObjectByRef(ref, undefined)?.power_state !== state) await sleep(50)
          })(),
          15e3, `watcher sees ${state}`)
      }
      await waitState('Halted')
      await actor.call('VM.start', ref, false, false)         // xo-server: synchronous start
      await waitState('Running')
      const vm = xapi.getObjectByRef(ref)
      assert.equal(vm.$resident_on.$ref, xapi.pool.master)
      await actor.callAsync('VM.pause', ref)
      await waitState('Paused')
      await actor.callAsync('VM.unpause', ref)
      await waitState('Running')
      await actor.callAsync('VM.suspend', ref)
      await waitState('Suspended')
      await actor.callAsync('VM.resume', ref, false, false)
      await waitState('Running')
      await actor.callAsync('VM.clean_reboot', ref)
      await actor.callAsync('VM.hard_reboot', ref)
      const r = await withTimeout(xapi.callAsync('VM.clean_shutdown', ref), 30e3, 'callAsync clean_shutdown')
      assert.equal(r, '')
      await waitState('Halted')
      assert.deepEqual(seen.filter((s, i) => i === 0 || s !== seen[i - 1]).slice(0, 7),
        ['Halted', 'Running', 'Paused', 'Running', 'Suspended', 'Running', seen[6]])
      assert.equal(seen.at(-1), 'Halted')
      // a failing task rejects with the XAPI error
      await assert.rejects(withTimeout(xapi.callAsync('VM.clean_shutdown', ref), 30e3, 'failing callAsync'), {
        code: 'VM_BAD_POWER_STATE', params: [ref, 'running', 'halted'],
      })
      // a task result that is a ref is parsed from the XML-RPC <value> fragment
      const clone = await withTimeout(xapi.callAsync('VM.clone', ref, 'xo-e2e-clone'), 30e3, 'callAsync clone')
      assert.match(clone, /^OpaqueRef:[0-9a-f-]{36}$/)
      assert.equal(await xapi.call('VM.get_name_label', clone), 'xo-e2e-clone')
      await xapi.callAsync('VM.destroy', clone)
    } finally {
      xapi.objects.removeListener('add', onChange)
      xapi.objects.removeListener('update', onChange)
      await actor.call('VM.destroy', ref).catch(() => {})
    }
    await withTimeout(xapi.barrier(), 15e3, 'barrier')
    assert.equal(xapi.getObjectByRef(ref, undefined), undefined, 'destroyed VM removed through a del event')
    assert.deepEqual(eventErrors, [])
  })

  test('networks, PIFs and VIF_create as @xen-orchestra/xapi does it', { skip: REMOTE && 'sim only', timeout: scaled(60e3) }, async () => {
    await withTimeout(xapi.barrier(), 15e3, 'barrier')
    const byType = t => Object.values(xapi.objects.all).filter(o => o.$type === t)
    // XO's host view: the physical PIF, its metrics and its network, linked by refs
    const pif = byType('PIF').find(p => p.management)
    assert.ok(pif, 'a management PIF')
    assert.equal(pif.bond_slave_of, 'OpaqueRef:NULL')
    assert.equal(pif.$metrics.carrier, true)
    assert.ok(pif.$metrics.device_name)
    const network = pif.$network
    assert.equal(network.bridge, 'xenbr0')
    assert.ok(network.PIFs.includes(pif.$ref))
    for (const t of ['Bond', 'VLAN', 'tunnel']) assert.deepEqual(await xapi.call(`${t}.get_all_records`), {})

    const VM = await newVm(xapi, 'xo-e2e-vif')
    try {
      await xapi.call('VM.start', VM, false, false)
      // @xen-orchestra/xapi vif.mjs: first free device, the network's MTU, VIF.create (never
      // plugs), then VIF.plug through a task when the VM runs
      const device = (await xapi.call('VM.get_allowed_VIF_devices', VM))[0]
      const [powerState, MTU] = await Promise.all([
        xapi.getField('VM', VM, 'power_state'), xapi.getField('network', network.$ref, 'MTU')])
      const vifRef = await xapi.call('VIF.create', {
        currently_attached: powerState === 'Suspended' ? true : undefined,
        device, ipv4_allowed: undefined, ipv6_allowed: undefined, locking_mode: undefined,
        MAC: '', MTU, network: network.$ref, other_config: {}, qos_algorithm_params: {},
        qos_algorithm_type: '', VM,
      })
      assert.equal(await xapi.getField('VIF', vifRef, 'currently_attached'), false)
      await withTimeout(xapi.callAsync('VIF.plug', vifRef), 30e3, 'callAsync VIF.plug')
      await withTimeout(xapi.barrier(vifRef), 15e3, 'barrier(vif)')
      const vif = xapi.getObjectByRef(vifRef)
      assert.equal(vif.currently_attached, true)
      assert.equal(vif.device, '0')
      assert.equal(vif.MAC_autogenerated, true)
      assert.match(vif.MAC, /^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/)
      assert.equal(vif.$VM.$ref, VM)
      assert.equal(vif.$network.$ref, network.$ref)
      await withTimeout(xapi.barrier(VM), 15e3, 'barrier(vm)')
      assert.deepEqual(xapi.getObjectByRef(VM).VIFs, [vifRef])
      await assert.rejects(xapi.callAsync('VIF.plug', vifRef), { code: 'DEVICE_ALREADY_ATTACHED', params: [vifRef] })
      await xapi.callAsync('VIF.unplug', vifRef)
      await xapi.call('VIF.destroy', vifRef)
    } finally {
      await xapi.call('VM.hard_shutdown', VM).catch(() => {})
      await xapi.call('VM.destroy', VM).catch(() => {})
    }
    assert.deepEqual(eventErrors, [])
  })

  test('SRs, VDI_create and VBD_create as @xen-orchestra/xapi does it', { skip: REMOTE && 'sim only', timeout: scaled(60e3) }, async () => {
    await withTimeout(xapi.barrier(), 15e3, 'barrier')
    // XO's storage view: the default SR is writable (content_type user, physical_size > 0),
    // attached to the master through a plugged PBD, with an SM record for its type
    const sr = xapi.pool.$default_SR
    assert.ok(sr, 'pool.default_SR resolves')
    assert.equal(sr.content_type, 'user')
    assert.ok(+sr.physical_size > 0)
    assert.equal(sr.$PBDs[0].$host.$ref, xapi.pool.master)
    assert.equal(sr.$PBDs[0].currently_attached, true)
    assert.ok(Object.values(xapi.objects.all).some(o => o.$type === 'SM' && o.type === sr.type))
    const iso = Object.values(xapi.objects.all).find(o => o.$type === 'SR' && o.type === 'iso')
    assert.ok(iso && +iso.physical_size > 0, 'an ISO SR XO lists')

    const VM = await newVm(xapi, 'xo-e2e-disks')
    try {
      await xapi.call('VM.start', VM, false, false)
      // VDI_create: the record xo-server sends (undefined fields are left out on the wire)
      const vdiRef = await xapi.call('VDI.create', {
        name_description: 'created by xo', name_label: 'xo disk', other_config: {}, read_only: false,
        sharable: false, sm_config: undefined, SR: sr.$ref, tags: undefined, type: 'user',
        virtual_size: 64 * 1024 * 1024, xenstore_data: undefined,
      })
      // VBD_create: first allowed position, never plugged by create, then VBD.plug as a task
      const userdevice = (await xapi.call('VM.get_allowed_VBD_devices', VM))[0]
      const vbdRef = await xapi.call('VBD.create', {
        bootable: false, currently_attached: undefined, device: undefined, empty: false, mode: 'RW',
        other_config: {}, qos_algorithm_params: {}, qos_algorithm_type: '', type: 'Disk',
        unpluggable: false, userdevice, VDI: vdiRef, VM,
      })
      assert.equal(await xapi.getField('VBD', vbdRef, 'currently_attached'), false)
      await withTimeout(xapi.callAsync('VBD.plug', vbdRef), 30e3, 'callAsync VBD.plug')
      await withTimeout(xapi.barrier(vbdRef), 15e3, 'barrier(vbd)')
      const vbd = xapi.getObjectByRef(vbdRef)
      assert.equal(vbd.currently_attached, true)
      assert.equal(vbd.device, 'xvda')
      assert.equal(vbd.$VDI.$SR.$ref, sr.$ref)
      await withTimeout(xapi.barrier(VM), 15e3, 'barrier(vm)')
      assert.deepEqual(xapi.getObjectByRef(VM).VBDs, [vbdRef])
      assert.deepEqual(xapi.getObjectByRef(vdiRef).VBDs, [vbdRef])
      // xo-server: unplug_force fails on a non-unpluggable VBD, set it and retry
      await assert.rejects(xapi.callAsync('VBD.unplug_force', vbdRef), { code: 'VBD_NOT_UNPLUGGABLE', params: [vbdRef] })
      await xapi.call('VBD.set_unpluggable', vbdRef, true)
      await xapi.callAsync('VBD.unplug_force', vbdRef)
      await xapi.call('VBD.destroy', vbdRef)
      const snap = await xapi.callAsync('VDI.snapshot', vdiRef)
      await withTimeout(xapi.barrier(vdiRef), 15e3, 'barrier(vdi)')
      assert.equal(xapi.getObjectByRef(vdiRef).snapshots.includes(snap.replace(/^<value>|<\/value>$/g, '')), true)
      await xapi.call('VDI.destroy', xapi.getObjectByRef(vdiRef).snapshots[0])
      await xapi.call('VDI.destroy', vdiRef)
    } finally {
      await xapi.call('VM.hard_shutdown', VM).catch(() => {})
      await xapi.call('VM.destroy', VM).catch(() => {})
    }
    assert.deepEqual(eventErrors, [])
  })

  test('VDI importContent / exportContent as @xen-orchestra/xapi does them', { skip: REMOTE && 'sim only', timeout: scaled(60e3) }, async () => {
    // importContent: putResource('/import_raw_vdi/') under a task, a stream with its length
    // (XO refuses a VDI stream without one, so never sends its 1 PiB form here), after the
    // empty probe PUT of the same VDI. The 200 comes before the body is read (as XAPI
    // answers, and xe needs); the outcome is the task's. Twice: the second overwrites.
    const sr = xapi.pool.$default_SR
    const size = 4 * 1024 * 1024
    const vdiRef = await xapi.call('VDI.create', {
      name_description: '', name_label: 'xo import', other_config: {}, read_only: false,
      sharable: false, SR: sr.$ref, type: 'user', virtual_size: size,
    })
    try {
      for (let round = 0; round < 2; round++) {
        const data = randomBytes(size)
        const stream = Readable.from([data.subarray(0, size / 2), data.subarray(size / 2)])
        stream.length = size
        const task = await xapi.call('task.create', 'Importing content into VDI xo import', '')
        await withTimeout(xapi.putResource(stream, '/import_raw_vdi/', {
          query: { format: 'raw', vdi: vdiRef }, task,
        }), 30e3, 'putResource /import_raw_vdi/')
        assert.equal(await xapi.call('task.get_status', task), 'success')
        // exportContent: getResource('/export_raw_vdi/') under a task
        const exportTask = await xapi.call('task.create', 'Exporting content of VDI xo import', '')
        const resp = await xapi.getResource('/export_raw_vdi/', {
          query: { format: 'raw', vdi: vdiRef }, task: exportTask,
        })
        const chunks = []
        for await (const chunk of resp.body) chunks.push(chunk)
        await withTimeout(resp.task, 15e3, 'export task settles')
        assert.ok(Buffer.concat(chunks).equals(data), `bytes back, round ${round}`)
      }
    } finally {
      await xapi.call('VDI.destroy', vdiRef)
    }
  })

  test('VM_snapshot, VM_checkpoint, VM_export, VM_import and revert as @xen-orchestra/xapi does them', { skip: REMOTE && 'sim only', timeout: scaled(120e3) }, async () => {
    await withTimeout(xapi.barrier(), 15e3, 'barrier')
    const extractOpaqueRef = str => /OpaqueRef:[0-9a-z-]+/.exec(String(str))[0]
    const sr = xapi.pool.$default_SR
    const VM = await newVm(xapi, 'xo-e2e-backup')
    const made = []
    try {
      const vdiRef = await xapi.call('VDI.create', {
        name_description: '', name_label: 'xo backup disk', other_config: {}, read_only: false,
        sharable: false, SR: sr.$ref, type: 'user', virtual_size: 8 * 1024 * 1024,
      })
      made.push(vdiRef)
      await xapi.call('VBD.create', {
        bootable: true, empty: false, mode: 'RW', other_config: {}, qos_algorithm_params: {},
        qos_algorithm_type: '', type: 'Disk', unpluggable: false, userdevice: '0', VDI: vdiRef, VM,
      })
      await xapi.call('VM.start', VM, false, false)
      // VM_snapshot: Async, with ignore_vdis; then the snapshot becomes a plain VM record
      const snapRef = extractOpaqueRef(await xapi.callAsync('VM.snapshot', VM, 'xo snapshot', []))
      await xapi.call('VM.set_is_a_template', snapRef, false)
      // VM_checkpoint: the same, with memory; the VM keeps running
      const cpRef = extractOpaqueRef(await xapi.callAsync('VM.checkpoint', VM, 'xo checkpoint'))
      await xapi.call('VM.set_is_a_template', cpRef, false)
      await withTimeout(xapi.barrier(cpRef), 15e3, 'barrier(checkpoint)')
      const cp = xapi.getObjectByRef(cpRef)
      assert.equal(cp.power_state, 'Suspended')
      assert.equal(cp.$snapshot_of.$ref, VM)
      assert.equal(cp.$suspend_VDI.type, 'suspend')
      assert.equal(await xapi.call('VM.get_power_state', VM), 'Running')
      // VM_export of the snapshot (XO exports snapshots of running VMs), zstd, under a task
      const exportTask = await xapi.call('task.create', 'VM export', '')
      const resp = await xapi.getResource('/export/', {
        query: { ref: snapRef, use_compression: 'zstd' }, task: exportTask,
      })
      assert.equal(resp.statusCode, 200)
      // VM_import: the export stream piped straight in, length unknown (XO's 1 PiB
      // convention, after its empty probe PUT), the task's result names the new VM
      const importTask = await xapi.call('task.create', 'VM import', '')
      const result = await withTimeout(xapi.putResource(resp.body, '/import/', {
        query: { sr_id: sr.$ref }, task: importTask,
      }), 60e3, 'putResource /import/')
      await withTimeout(resp.task, 15e3, 'export task settles')
      const newVm = extractOpaqueRef(result)
      made.push(newVm)
      await withTimeout(xapi.barrier(newVm), 15e3, 'barrier(new VM)')
      const imported = xapi.getObjectByRef(newVm)
      assert.equal(imported.name_label, 'xo snapshot')
      assert.equal(imported.is_a_snapshot, false)
      assert.equal(imported.power_state, 'Halted')
      assert.equal(imported.$VBDs.filter(b => b.type === 'Disk').length, 1)
      assert.equal(imported.$VBDs[0].$VDI.virtual_size, 8 * 1024 * 1024)
      // revert to the checkpoint: XO halts, reverts, then resumes a Suspended VM
      await xapi.call('VM.hard_shutdown', VM)
      await xapi.callAsync('VM.revert', cpRef)
      assert.equal(await xapi.call('VM.get_power_state', VM), 'Suspended')
      await xapi.callAsync('VM.resume', VM, false, true)
      assert.equal(await xapi.call('VM.get_power_state', VM), 'Running')
      // old snapshots go as XO's backups remove them
      for (const ref of [snapRef, cpRef]) {
        const vdis = (await xapi.call('VM.get_VBDs', ref)).length
        assert.ok(vdis >= 1)
        await xapi.call('VM.destroy', ref)
      }
    } finally {
      await xapi.call('VM.hard_shutdown', VM).catch(() => {})
      await xapi.call('VM.destroy', VM).catch(() => {})
      for (const ref of made.reverse()) {
        if (ref.startsWith('OpaqueRef:')) {
          await xapi.call('VM.hard_shutdown', ref).catch(() => {})
          await xapi.call('VM.destroy', ref).catch(() => {})
          await xapi.call('VDI.destroy', ref).catch(() => {})
        }
      }
    }
    assert.deepEqual(eventErrors, [])
  })

  test('task objects are cleaned up (valid_ref_counts.task is consistent)', async () => {
    await withTimeout(xapi.barrier(), 15e3, 'barrier')
    // the client's cache converges on the server's list through events (no sleep: poll both)
    let tasks, cached
    const same = async () => {
      tasks = [...await xapi.call('task.get_all')].sort()
      cached = Object.values(xapi.objects.all).filter(o => o.$type === 'task').map(t => t.$ref).sort()
      return JSON.stringify(tasks) === JSON.stringify(cached)
    }
    const deadline = Date.now() + scaled(15e3)       // a hang guard
    while (!await same() && Date.now() < deadline) await sleep(50)
    assert.deepEqual(cached, tasks)
  })

  test('getResource /rrd_updates like xo-server xapi-stats', { timeout: scaled(90e3) }, async () => {
    const host = xapi.getObjectByRef(xapi.pool.master)
    const serverTime = await xapi.call('host.get_servertime', host.$ref)
    assert.match(String(serverTime), /^\d{8}T\d\d:\d\d:\d\dZ$/)
    const m = /^(\d{4})(\d\d)(\d\d)T(\d\d):(\d\d):(\d\d)Z$/.exec(serverTime)
    const now = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1e3
    const step = 5
    // running VMs need samples: wait (a hang guard) for their series
    const running = vmsOf(xapi).filter(vm => vm.power_state === 'Running').map(vm => vm.uuid)
    let json
    const deadline = Date.now() + scaled(40e3)
    while (true) {
      // xo-server passes {host}; with a single host on a non-default port we pass none so the
      // client keeps the URL's port (with `host` it would drop it, see spec §4.4)
      const resp = await xapi.getResource('/rrd_updates', {
        query: { cf: 'AVERAGE', host: 'true', interval: step, json: 'true', start: now - step * 120 + step },
      })
      assert.equal(resp.statusCode, 200)
      assert.equal(resp.headers['content-type'], 'application/json')
      json = JSON.parse(await resp.body.text())
      if (resp.task !== undefined) await withTimeout(resp.task, 15e3, 'getResource task settles')
      const vmUuids = new Set(json.meta.legend.filter(l => l.startsWith('AVERAGE:vm:')).map(l => l.split(':')[2]))
      if (running.every(u => vmUuids.has(u)) && json.data.length > 0) break
      if (Date.now() > deadline) assert.fail(`no VM series for ${running} in ${JSON.stringify(json.meta.legend)}`)
      await sleep(2000)
    }
    assert.equal(+json.meta.step, step, 'FaultyGranularity otherwise')
    const legend = json.meta.legend
    for (const l of legend) assert.match(l, /^AVERAGE:([^:]+):(.+):(.+)$/)
    assert.ok(legend.includes(`AVERAGE:host:${host.uuid}:memory_total_kib`))
    assert.ok(legend.includes(`AVERAGE:host:${host.uuid}:cpu0`))
    for (const u of running) assert.ok(legend.includes(`AVERAGE:vm:${u}:memory`), u)
    const ts = json.data.map(r => +r.t)
    assert.deepEqual(ts, [...ts].sort((a, b) => b - a), 'newest first')
    for (const row of json.data) assert.equal(row.values.length, legend.length)
    assert.ok(+json.meta.end > 0)
  })
})
