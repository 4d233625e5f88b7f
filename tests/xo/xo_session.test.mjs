// A Xen Orchestra session replayed with its own client (npm xen-api): what xo-server does with a
// pool when it connects and while a user browses xo-web's views. Every XAPI method on those paths
// must exist (no MESSAGE_METHOD_UNKNOWN) and every field xo-server's object conversion reads must be
// present with the type the datamodel gives it.
//
// The lists below come from the xen-orchestra sources (vatesfr/xen-orchestra 9ef53890b8), read, not
// guessed:
// - connect: packages/xen-api/index.mjs (connect: session.login_with_password, pool/host
//   get_all_records, system.listMethods, get_all_records of every advertised type; _watchEvents:
//   event.inject then event.from);
// - browse: the xo-server API methods xo-web's views call (packages/xo-web/src/common/xo/index.js)
//   and the XAPI calls their implementations make (packages/xo-server/src/api/{host,pool,vm}.mjs,
//   packages/xo-server/src/xapi/index.mjs, xapi/mixins/patching.mjs, @xen-orchestra/xapi/host.mjs,
//   packages/xo-server-ipmi-sensors), and xapi-stats' /rrd_updates (tested in xo.test.mjs);
// - fields: packages/xo-server/src/xapi-object-to-xo.mjs: each transform's obj.FIELD,
//   link(obj, 'FIELD') and `const { … } = obj`, plus what it reads of the linked metrics objects
//   and xapi/utils.mjs (isHostRunning: metrics.live; getVmDomainType: domain_type,
//   HVM_boot_policy). Left out: fields newer than the datamodel we serve, read with a fallback
//   (pool.ha_reboot_vm_on_internal_shutdown, SM.supported_image_formats), and $-properties the
//   client makes itself ($pool, $xapi, $ref).
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Xapi } from 'xen-api'

import { REMOTE, scaled, startGateway } from './gateway.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const DATAMODEL = path.join(here, '..', '..', '..', 'shared', 'spec', 'xenapi-datamodel.json')

const XO_FIELDS = {
  pool: ['cpu_info', 'crash_dump_SR', 'current_operations', 'default_SR', 'ha_enabled', 'ha_statefiles', 'master', 'migration_compression', 'name_description', 'name_label', 'other_config', 'restrictions', 'suspend_image_SR', 'tags'],
  host: ['PBDs', 'PCIs', 'PGPUs', 'PIFs', 'address', 'bios_strings', 'capabilities', 'certificates', 'chipset_info', 'control_domain', 'cpu_info', 'current_operations', 'enabled', 'hostname', 'iscsi_iqn', 'license_params', 'license_server', 'logging', 'metrics', 'name_description', 'name_label', 'other_config', 'patches', 'power_on_mode', 'resident_VMs', 'software_version', 'tags', 'updates', 'updates_requiring_reboot'],
  VM: ['HVM_boot_params', 'HVM_boot_policy', 'PV_args', 'VBDs', 'VCPUs_at_startup', 'VCPUs_max', 'VCPUs_params', 'VGPUs', 'VIFs', 'VTPMs', 'affinity', 'bios_strings', 'blocked_operations', 'current_operations', 'domain_type', 'guest_metrics', 'ha_restart_priority', 'has_vendor_device', 'is_a_snapshot', 'is_a_template', 'is_control_domain', 'memory_dynamic_max', 'memory_dynamic_min', 'memory_static_max', 'memory_static_min', 'metrics', 'name_description', 'name_label', 'other_config', 'parent', 'platform', 'power_state', 'recommendations', 'resident_on', 'snapshot_of', 'snapshot_time', 'snapshots', 'start_delay', 'suspend_SR', 'suspend_VDI', 'tags', 'uuid', 'xenstore_data'],
  SR: ['PBDs', 'VDIs', 'content_type', 'current_operations', 'name_description', 'name_label', 'other_config', 'physical_size', 'physical_utilisation', 'shared', 'sm_config', 'tags', 'type', 'virtual_allocation'],
  SM: ['configuration', 'driver_filename', 'features', 'name_description', 'name_label', 'required_cluster_stack', 'type', 'uuid', 'vendor'],
  PBD: ['SR', 'currently_attached', 'device_config', 'host', 'other_config'],
  PIF: ['DNS', 'IP', 'IPv6', 'MAC', 'MTU', 'VLAN', 'bond_master_of', 'bond_slave_of', 'currently_attached', 'device', 'disallow_unplug', 'gateway', 'host', 'ip_configuration_mode', 'ipv6_configuration_mode', 'management', 'metrics', 'netmask', 'network', 'physical', 'primary_address_type'],
  VDI: ['SR', 'VBDs', 'cbt_enabled', 'current_operations', 'is_a_snapshot', 'managed', 'missing', 'name_description', 'name_label', 'other_config', 'physical_utilisation', 'sm_config', 'snapshot_of', 'snapshot_time', 'snapshots', 'tags', 'type', 'virtual_size'],
  VBD: ['VDI', 'VM', 'bootable', 'currently_attached', 'device', 'mode', 'type', 'userdevice'],
  VIF: ['MAC', 'MTU', 'VM', 'currently_attached', 'device', 'ipv4_allowed', 'ipv6_allowed', 'locking_mode', 'network', 'other_config', 'qos_algorithm_params', 'qos_algorithm_type'],
  network: ['MTU', 'PIFs', 'VIFs', 'bridge', 'current_operations', 'default_locking_mode', 'name_description', 'name_label', 'other_config', 'purpose', 'tags'],
  message: ['body', 'name', 'obj_uuid', 'timestamp'],
  task: ['allowed_operations', 'created', 'current_operations', 'finished', 'name_description', 'name_label', 'other_config', 'progress', 'resident_on', 'result', 'status'],
  host_patch: ['applied', 'host', 'pool_patch', 'timestamp_applied'],
  pool_patch: ['after_apply_guidance', 'host_patches', 'name_description', 'name_label', 'pool_applied', 'size', 'uuid', 'version'],
  PCI: ['class_name', 'device_name', 'host', 'pci_id'],
  PGPU: ['GPU_group', 'PCI', 'dom0_access', 'enabled_VGPU_types', 'host', 'is_system_display_device', 'resident_VGPUs', 'supported_VGPU_max_capacities', 'supported_VGPU_types'],
  VGPU: ['GPU_group', 'VM', 'currently_attached', 'device', 'other_config', 'resident_on'],
  GPU_group: ['GPU_types', 'PGPUs', 'VGPUs', 'allocation_algorithm', 'enabled_VGPU_types', 'name_description', 'name_label', 'other_config', 'supported_VGPU_types'],
  VGPU_type: ['VGPUs', 'enabled_on_GPU_groups', 'enabled_on_PGPUs', 'experimental', 'framebuffer_size', 'max_heads', 'max_resolution_x', 'max_resolution_y', 'model_name', 'vendor_name'],
  VTPM: ['VM'],
  PUSB: ['USB_group', 'host', 'passthrough_enabled', 'product_desc', 'speed', 'vendor_desc', 'vendor_id', 'version'],
  VUSB: ['USB_group', 'VM', 'currently_attached'],
  USB_group: ['PUSBs', 'VUSBs'],
  Bond: ['master', 'mode'],
  // the linked objects the transforms read ($metrics, $guest_metrics)
  host_metrics: ['live', 'memory_free', 'memory_total'],
  VM_metrics: ['VCPUs_number', 'install_time', 'memory_actual', 'start_time'],
  VM_guest_metrics: ['PV_drivers_detected', 'PV_drivers_up_to_date', 'PV_drivers_version', 'memory', 'networks', 'os_version', 'other'],
  PIF_metrics: ['carrier', 'device_name', 'speed'],
}

// The types of the datamodel, as xen-api hands values over (JSON-RPC).
const datamodel = JSON.parse(fs.readFileSync(DATAMODEL, 'utf8'))
const enums = new Map()
for (const cls of datamodel) for (const e of cls.enums ?? []) enums.set(e.name, new Set(e.values.map(v => v.name)))
const fieldTypes = new Map(datamodel.map(cls => [cls.name.toLowerCase(), new Map(cls.fields.map(f => [f.name, f.type]))]))

function typeError(type, value) {
  const isObj = v => v !== null && typeof v === 'object' && !Array.isArray(v)
  if (type === 'string' || type === 'datetime') return typeof value === 'string' ? null : 'a string'
  if (type === 'int' || type === 'float') return typeof value === 'number' ? null : 'a number'
  if (type === 'bool') return typeof value === 'boolean' ? null : 'a boolean'
  if (type.startsWith('(') && type.endsWith(') map')) return isObj(value) ? null : 'an object'
  if (type.endsWith(' set')) {
    if (!Array.isArray(value)) return 'an array'
    for (const item of value) {
      const e = typeError(type.slice(0, -4), item)
      if (e !== null) return `an array of ${e}`
    }
    return null
  }
  if (type.startsWith('enum ')) {
    const values = enums.get(type.slice(5))
    return typeof value === 'string' && (values === undefined || values.has(value)) ? null : `one of ${type}`
  }
  if (type.endsWith(' ref')) return typeof value === 'string' && value.startsWith('OpaqueRef:') ? null : 'a ref'
  if (type.endsWith(' record')) return isObj(value) ? null : 'an object'
  return null
}

let gw
const clients = []

before(async () => {
  gw = await startGateway({ simVms: 3 })
})

after(async () => {
  for (const xapi of clients) await xapi.disconnect().catch(() => {})
  setTimeout(() => process.exit(), 3000).unref()
  if (gw === undefined) return
  const exit = await gw.stop()
  if (exit !== null) assert.deepEqual(exit, { code: 0, signal: null }, `gateway exit on SIGTERM\n${gw.log()}`)
})

async function connect() {
  // as xo-server's xen-servers.mjs builds it (watchEvents on, the default transport)
  const xapi = new Xapi({ url: gw.url, allowUnauthorized: true, auth: { user: gw.user, password: gw.password } })
  clients.push(xapi)
  const methods = []
  const call = xapi._call.bind(xapi)
  xapi._call = (method, ...rest) => {
    methods.push(method)
    return call(method, ...rest)
  }
  await xapi.connect()
  await Promise.race([
    xapi.objectsFetched,
    new Promise((resolve, reject) => setTimeout(() => reject(new Error('objectsFetched timed out')), scaled(60e3))),
  ])
  return { xapi, methods }
}

describe('xo-server session', () => {
  let xapi, connectCalls
  before(async () => {
    ;({ xapi, methods: connectCalls } = await connect())
  })

  test('connect: the calls xen-api makes all succeed, every advertised type is fetched', async () => {
    for (const m of ['session.login_with_password', 'pool.get_all_records', 'host.get_all_records', 'system.listMethods']) {
      assert.ok(connectCalls.includes(m), `${m} made on connect (made: ${connectCalls.join(', ')})`)
    }
    const fetched = connectCalls.filter(m => m.endsWith('.get_all_records')).map(m => m.split('.')[0])
    for (const t of ['VM', 'host', 'pool', 'message', 'SR', 'VDI', 'network', 'PIF', 'task']) {
      assert.ok(fetched.includes(t), `${t}.get_all_records on connect`)
    }
    assert.equal(xapi.status, 'connected')
  })

  test('every field xo-server reads is there with the datamodel type', { timeout: scaled(60e3) }, async () => {
    const mustSee = ['pool', 'host', 'VM', 'SR', 'network', 'PIF', 'PBD', 'SM', 'host_metrics', 'VM_metrics']
    if (!REMOTE) {
      // the sim's guests have no disk: give a halted one a disk as xo-server's VDI_create and
      // VBD_create do, so that VDI and VBD records are read too
      const vm = Object.values(xapi.objects.all).find(o => o.$type === 'VM' && !o.is_control_domain && !o.is_a_template && o.power_state === 'Halted')
      const VDI = await xapi.call('VDI.create', {
        name_description: '', name_label: 'xo session disk', other_config: {}, read_only: false,
        sharable: false, SR: xapi.pool.default_SR, type: 'user', virtual_size: 16 * 1024 * 1024,
      })
      const userdevice = (await xapi.call('VM.get_allowed_VBD_devices', vm.$ref))[0]
      const vbd = await xapi.call('VBD.create', {
        bootable: false, empty: false, mode: 'RW', other_config: {}, qos_algorithm_params: {},
        qos_algorithm_type: '', type: 'Disk', unpluggable: false, userdevice, VDI, VM: vm.$ref,
      })
      await xapi.barrier(vbd)
      mustSee.push('VDI', 'VBD', 'VIF')
    }
    const problems = []
    const seen = new Set()
    for (const obj of Object.values(xapi.objects.all)) {
      const fields = XO_FIELDS[obj.$type]
      if (fields === undefined) continue
      seen.add(obj.$type)
      const types = fieldTypes.get(obj.$type.toLowerCase())
      for (const f of fields) {
        if (!(f in obj)) {
          problems.push(`${obj.$type} ${obj.$ref}: no ${f}`)
          continue
        }
        const type = types?.get(f)
        const e = type && typeError(type, obj[f])
        if (e) problems.push(`${obj.$type}.${f} = ${JSON.stringify(obj[f])}: not ${e} (${type})`)
      }
    }
    assert.deepEqual(problems.slice(0, 40), [])
    for (const t of mustSee) assert.ok(seen.has(t), `some ${t} was checked`)
  })

  test('browse: the XAPI calls behind the views xo-web shows', { timeout: scaled(120e3) }, async () => {
    const host = xapi.pool.master
    // a running guest on sim; a real host may have none running, or none at all (then dom0)
    const vms = Object.values(xapi.objects.all).filter(o => o.$type === 'VM' && !o.is_a_template && !o.is_a_snapshot)
    const vm = vms.find(o => !o.is_control_domain && o.power_state === 'Running') ??
      vms.find(o => !o.is_control_domain) ?? vms.find(o => o.is_control_domain)
    if (!REMOTE) assert.ok(vm.power_state === 'Running' && !vm.is_control_domain, 'a running guest')
    const absentPlugin = ['XENAPI_MISSING_PLUGIN', 'XENAPI_PLUGIN_FAILURE']
    // [method, args, error codes that path expects and handles, where xo-server makes the call]
    const calls = [
      ['host.get_sched_gran', [host], [], 'api/host.mjs getSchedulerGranularity (getField sched_gran)'],
      ['host.get_servertime', [host], [], 'xapi/index.mjs isHostServerTimeConsistent'],
      ['host.get_server_certificate', [host], [], 'api/host.mjs isPubKeyTooShort'],
      ['host.get_bios_strings', [host], [], 'xapi/index.mjs getHostBiosInfo'],
      ['host.get_other_config', [host], [], '@xen-orchestra/xapi/host.mjs restartAgent (getField)'],
      ['host.get_resident_VMs', [host], [], '@xen-orchestra/xapi/host.mjs smartReboot (getField)'],
      ['host.get_uncooperative_resident_VMs', [host], [], 'XenCenter-era memory view'],
      ['host.get_system_status_capabilities', [host], [], 'xe host-get-system-status-capabilities'],
      ['host.call_plugin', [host, 'hyperthreading.py', 'get_hyperthreading', {}], absentPlugin, 'xapi/index.mjs isHyperThreadingEnabled'],
      ['host.call_plugin', [host, 'smartctl.py', 'health', {}], absentPlugin, 'xapi/index.mjs getSmartctlHealth'],
      ['host.call_plugin', [host, 'smartctl.py', 'information', {}], absentPlugin, 'xapi/index.mjs getSmartctlInformation'],
      ['host.call_plugin', [host, 'raid.py', 'check_raid_pool', {}], absentPlugin, '@xen-orchestra/xapi/host.mjs host_getMdadmHealth'],
      ['host.call_plugin', [host, 'lsblk.py', 'list_block_devices', {}], absentPlugin, 'api/host.mjs getBlockdevices'],
      ['host.call_plugin', [host, 'updater.py', 'check_update', {}], absentPlugin, 'xapi/mixins/patching.mjs listMissingPatches'],
      ['host.call_plugin', [host, 'ipmitool.py', 'get_all_sensors', {}], absentPlugin, 'xo-server-ipmi-sensors'],
      ['VM.get_secureboot_readiness', [vm.$ref], [], 'api/vm.mjs getSecurebootReadiness'],
      ['pool.get_guest_secureboot_readiness', [xapi.pool.$ref], [], 'api/pool.mjs getGuestSecureBootReadiness'],
      ['VM.get_allowed_VBD_devices', [vm.$ref], [], 'xo-web new disk / CD drive forms'],
      ['VM.get_allowed_VIF_devices', [vm.$ref], [], 'xo-web new network interface form'],
      ['VM.assert_operation_valid', [vm.$ref, 'suspend'], ['OPERATION_NOT_ALLOWED', 'VM_LACKS_FEATURE', 'VM_LACKS_FEATURE_SUSPEND'], '@xen-orchestra/xapi/host.mjs smartReboot'],
      ['SR.get_supported_types', [], [], 'xo-web new SR form'],
      ['host.assert_can_evacuate', [host], ['CANNOT_EVACUATE_HOST'], 'xapi/mixins/pool.mjs rolling pool update'],
    ]
    const unknown = []
    for (const [method, args, expected, where] of calls) {
      try {
        await xapi.call(method, ...args)
      } catch (error) {
        if (error.code === 'MESSAGE_METHOD_UNKNOWN') {
          unknown.push(`${method} (${where})`)
        } else if (!expected.includes(error.code)) {
          assert.fail(`${method} (${where}): ${error.code} ${JSON.stringify(error.params)}`)
        }
      }
    }
    assert.deepEqual(unknown, [])
    // what isPubKeyTooShort does with the certificate
    const pem = await xapi.call('host.get_server_certificate', host)
    assert.ok(new X509Certificate(pem).publicKey.asymmetricKeyDetails.modulusLength >= 2048)
    assert.ok(['cpu', 'core', 'socket'].includes(await xapi.call('host.get_sched_gran', host)))
  })

  test('every XAPI method named in xo-server and @xen-orchestra/xapi is served, or known absent', async () => {
    // grep -ohE "(call|callAsync|_roCall|_sessionCall|_call)\('[A-Za-z_]+\.[A-Za-z_]+'" over
    // packages/xo-server/src, @xen-orchestra/xapi and packages/xen-api/index.mjs: 146 methods;
    // those below are not served (features the gateway does not have: pools of several hosts,
    // HA, migration, bonds/VLAN/tunnels, USB/GPU passthrough, CBT/NBD, updates, certificates)
    const NOT_SERVED = new Set(['Bond.create', 'Bond.destroy', 'PIF.forget', 'PUSB.scan', 'PUSB.set_passthrough_enabled', 'SR.probe', 'VDI.data_destroy', 'VDI.disable_cbt', 'VDI.enable_cbt', 'VDI.get_nbd_info', 'VDI.list_changed_blocks', 'VDI.pool_migrate', 'VGPU.destroy', 'VLAN.destroy', 'VM.assert_can_migrate', 'VM.forget_data_source_archives', 'VM.migrate_send', 'VM.pool_migrate', 'VM.record_data_source', 'VM.restart_device_models', 'VM.set_bios_strings', 'VM.set_uefi_mode', 'VTPM.create', 'VTPM.destroy', 'VTPM.set_contents', 'VUSB.create', 'VUSB.destroy', 'VUSB.unplug', 'host.apply_updates', 'host.destroy', 'host.install_server_certificate', 'host.management_reconfigure', 'host.migrate_receive', 'host.power_on', 'host.syslog_reconfigure', 'pool.create_VLAN_from_PIF', 'pool.designate_new_master', 'pool.disable_ha', 'pool.eject', 'pool.enable_ha', 'pool.get_license_state', 'pool.management_reconfigure', 'pool_patch.pool_apply', 'pool_update.introduce', 'pool_update.pool_apply', 'pool_update.precheck', 'tunnel.destroy'])
    const NAMED = ['Bond.create', 'Bond.destroy', 'PBD.create', 'PBD.destroy', 'PBD.get_by_uuid', 'PBD.plug', 'PBD.unplug', 'PIF.forget', 'PIF.plug', 'PIF.reconfigure_ip', 'PIF.scan', 'PIF.unplug', 'PUSB.scan', 'PUSB.set_passthrough_enabled', 'SR.add_to_other_config', 'SR.destroy', 'SR.forget', 'SR.get_record', 'SR.get_supported_types', 'SR.introduce', 'SR.probe', 'SR.remove_from_other_config', 'SR.scan', 'VBD.create', 'VBD.destroy', 'VBD.eject', 'VBD.insert', 'VBD.plug', 'VBD.unplug_force', 'VDI.clone', 'VDI.copy', 'VDI.create', 'VDI.data_destroy', 'VDI.destroy', 'VDI.disable_cbt', 'VDI.enable_cbt', 'VDI.get_by_uuid', 'VDI.get_nbd_info', 'VDI.list_changed_blocks', 'VDI.pool_migrate', 'VDI.resize', 'VDI.snapshot', 'VGPU.destroy', 'VIF.create', 'VIF.destroy', 'VIF.move', 'VIF.plug', 'VIF.unplug_force', 'VLAN.destroy', 'VM.add_to_blocked_operations', 'VM.assert_can_boot_here', 'VM.assert_can_migrate', 'VM.assert_operation_valid', 'VM.clean_shutdown', 'VM.clone', 'VM.copy', 'VM.create', 'VM.destroy', 'VM.forget_data_source_archives', 'VM.get_allowed_VBD_devices', 'VM.get_allowed_VIF_devices', 'VM.get_by_uuid', 'VM.get_resident_on', 'VM.get_uuid', 'VM.hard_shutdown', 'VM.migrate_send', 'VM.pause', 'VM.pool_migrate', 'VM.provision', 'VM.record_data_source', 'VM.remove_from_blocked_operations', 'VM.remove_from_other_config', 'VM.restart_device_models', 'VM.resume', 'VM.revert', 'VM.set_VCPUs_number_live', 'VM.set_bios_strings', 'VM.set_memory_dynamic_range', 'VM.set_memory_limits', 'VM.set_platform', 'VM.set_suspend_SR', 'VM.set_uefi_mode', 'VM.start', 'VM.start_on', 'VM.suspend', 'VM.unpause', 'VTPM.create', 'VTPM.destroy', 'VTPM.set_contents', 'VUSB.create', 'VUSB.destroy', 'VUSB.unplug', 'event.inject', 'event.next', 'event.register', 'event.unregister', 'host.apply_updates', 'host.call_plugin', 'host.destroy', 'host.disable', 'host.enable', 'host.evacuate', 'host.get_all', 'host.get_all_records', 'host.get_bios_strings', 'host.get_control_domain', 'host.get_name_label', 'host.get_resident_VMs', 'host.get_server_certificate', 'host.get_servertime', 'host.install_server_certificate', 'host.management_reconfigure', 'host.migrate_receive', 'host.power_on', 'host.reboot', 'host.restart_agent', 'host.shutdown', 'host.syslog_reconfigure', 'message.destroy', 'network.create', 'network.destroy', 'network.get_by_uuid', 'pool.add_to_other_config', 'pool.create_VLAN_from_PIF', 'pool.designate_new_master', 'pool.disable_ha', 'pool.eject', 'pool.enable_ha', 'pool.get_all_records', 'pool.get_license_state', 'pool.management_reconfigure', 'pool.remove_from_other_config', 'pool.set_wlb_enabled', 'pool_patch.pool_apply', 'pool_update.introduce', 'pool_update.pool_apply', 'pool_update.precheck', 'session.login_with_password', 'session.logout', 'system.listMethods', 'task.cancel', 'task.create', 'task.destroy', 'task.set_progress', 'task.set_status', 'tunnel.destroy']
    const served = new Set([...(await xapi.call('system.listMethods')), 'system.listMethods'])
    const missing = NAMED.filter(m => !served.has(m) && !NOT_SERVED.has(m))
    assert.deepEqual(missing, [], 'named by xo-server, neither served nor known absent')
    // served since the list was written: a note, so that the list can shrink
    const nowServed = NAMED.filter(m => served.has(m) && NOT_SERVED.has(m))
    if (nowServed.length) console.log(`note: served now, drop from NOT_SERVED: ${nowServed.join(', ')}`)
  })
})
