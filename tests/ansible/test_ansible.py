"""Ansible as a real client: community.general's xenserver_facts, xenserver_guest,
xenserver_guest_powerstate and xenserver_guest_info run unchanged (ansible-playbook, Debian's
ansible package) against the sim gateway, through our XenAPI module (tests/ansible/XenAPI.py).
Each result Ansible reports is checked against what the gateway itself says."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from gateway import Gateway, REMOTE, scaled, sim_only, unverified_context  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
PHYSICAL_NET = "Pool-wide network associated with eth0"
INTERNAL_NET = "Host internal management network"


def playbook(args, workdir, local_socket=None):
    """Run ansible-playbook; returns {task name: result} from the json callback."""
    exe = shutil.which("ansible-playbook")
    if exe is None:
        raise AssertionError("ansible-playbook not found: tools/deps.sh installs Debian's ansible")
    env = dict(os.environ)
    env.update({
        "PYTHONPATH": HERE + os.pathsep + env.get("PYTHONPATH", ""),   # our XenAPI module
        "ANSIBLE_STDOUT_CALLBACK": "json",
        "ANSIBLE_CONFIG": os.path.join(workdir, "none.cfg"),           # no ansible.cfg from cwd
        "ANSIBLE_HOME": os.path.join(workdir, "home"),
        "ANSIBLE_LOCAL_TEMP": os.path.join(workdir, "tmp"),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
    })
    if local_socket:
        env["XAPI_LOCAL_SOCKET"] = local_socket
    p = subprocess.run([exe, "-i", "localhost,"] + args, cwd=workdir, env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=scaled(240))
    try:
        out = json.loads(p.stdout)
    except ValueError:
        raise AssertionError("ansible-playbook exited %d without a JSON report:\n%s\n%s"
                             % (p.returncode, p.stdout[-4000:], p.stderr[-4000:]))
    results = {}
    for play in out["plays"]:
        for t in play["tasks"]:
            results[t["task"]["name"]] = t["hosts"]["localhost"]
    failed = {n: r.get("msg") for n, r in results.items() if r.get("failed")}
    if p.returncode != 0 or failed:
        raise AssertionError("ansible-playbook exited %d, failed tasks: %s\n%s"
                             % (p.returncode, json.dumps(failed, indent=1), p.stderr[-4000:]))
    return results


@sim_only
class AnsibleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="xg-ansible-")
        cls.socket = os.path.join(cls.dir, "xcp", "xapi")
        cls.gw = Gateway(sim_vms=2, extra_args=("--local-socket", cls.socket)).start()
        cls.s = cls.gw.xapi()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.s.logout()
        finally:
            cls.gw.close()
            shutil.rmtree(cls.dir, ignore_errors=True)

    @unittest.skipUnless(os.geteuid() == 0, "needs root: the local socket trusts uid 0 only")
    def test_facts_over_the_local_socket(self):
        facts = playbook([os.path.join(HERE, "facts.yml")], self.dir, self.socket)["facts"]
        f = facts["ansible_facts"]
        nets = self.s.call("network.get_all_records")
        self.assertEqual(set(f["xs_networks"]), {n["name_label"] for n in nets.values()})
        for name, rec in f["xs_networks"].items():
            self.assertEqual(rec["bridge"], nets[rec["ref"]]["bridge"])
        # PIFs by device: the sim host's eth0, the management interface
        pifs = self.s.call("PIF.get_all_records")
        self.assertEqual(set(f["xs_pifs"]), {p["device"] for p in pifs.values()})
        eth0 = f["xs_pifs"]["eth0"]
        self.assertTrue(eth0["management"])
        self.assertEqual(nets[eth0["network"]]["name_label"], PHYSICAL_NET)
        self.assertNotIn("xs_vlans", f)      # no VLAN on this host: the module leaves it out
        vms = self.s.call("VM.get_all_records")
        self.assertEqual(set(f["xs_vms"]), {v["name_label"] for v in vms.values()})
        self.assertEqual(f["xs_srs"]["Local storage"]["ref"],
                         self.s.call("pool.get_default_SR", self.s.call("pool.get_all")[0]))

    def test_deploy_power_on_info_remove(self):
        name = "ansible-vm"
        r = playbook([os.path.join(HERE, "deploy.yml"),
                      "-e", json.dumps({"xs_url": self.gw.url, "xs_password": self.gw.password,
                                        "vm_name": name, "net_name": PHYSICAL_NET})], self.dir)

        deployed = r["deploy"]
        self.assertTrue(deployed["changed"])
        inst = deployed["instance"]
        self.assertEqual(inst["state"], "poweredoff")
        self.assertEqual(inst["hardware"]["num_cpus"], 2)
        self.assertEqual(inst["hardware"]["memory_mb"], 768)
        default_sr = self.s.call("pool.get_default_SR", self.s.call("pool.get_all")[0])
        self.assertEqual(inst["disks"][0]["sr_uuid"], self.s.call("SR.get_uuid", default_sr))
        self.assertEqual(inst["disks"][0]["size"], 1 << 30)
        self.assertEqual([n["name"] for n in inst["networks"]], [PHYSICAL_NET])
        self.assertFalse(r["deploy again"]["changed"], r["deploy again"].get("changes"))

        changes = r["second NIC with a static address, a second disk, a larger root disk"]
        self.assertTrue(changes["changed"])
        nics = changes["instance"]["networks"]
        self.assertEqual([(n["name"], n["vif_device"]) for n in nics],
                         [(PHYSICAL_NET, "0"), (INTERNAL_NET, "1")])
        self.assertEqual((nics[1]["netmask"], nics[1]["gateway"]), ("255.255.255.0", "192.168.77.1"))
        self.assertEqual([d["size"] for d in changes["instance"]["disks"]], [2 << 30, 64 << 20])

        # powered on, with the address its guest agent reports for eth0
        on = r["power on"]["instance"]
        self.assertEqual(on["state"], "poweredon")
        self.assertTrue(on["networks"][0]["ip"], on["networks"])
        info = r["info"]["instance"]
        self.assertEqual(info["state"], "poweredon")
        self.assertEqual(info["networks"][0]["ip"], on["networks"][0]["ip"])

        # what the gateway says about the running VM matches what Ansible reported
        vm = self.s.call("VM.get_by_uuid", info["uuid"])
        rec = self.s.call("VM.get_record", vm)
        gm = self.s.call("VM_guest_metrics.get_networks", rec["guest_metrics"])
        self.assertEqual(gm["0/ip"], info["networks"][0]["ip"])
        self.assertEqual(sorted(v for k, v in gm.items() if k.startswith("0/ipv6/")),
                         sorted(info["networks"][0]["ip6"]))
        vifs = {self.s.call("VIF.get_device", v): self.s.call("VIF.get_record", v) for v in rec["VIFs"]}
        self.assertEqual(sorted(vifs), ["0", "1"])
        self.assertTrue(all(v["currently_attached"] for v in vifs.values()))
        self.assertEqual(vifs["0"]["MAC"], info["networks"][0]["mac"])
        self.assertEqual(self.s.call("network.get_name_label", vifs["1"]["network"]), INTERNAL_NET)
        self.assertEqual(rec["xenstore_data"]["vm-data/networks/1/ip"], "192.168.77.5")
        vbds = [self.s.call("VBD.get_record", b) for b in rec["VBDs"]]
        disks = [b for b in vbds if b["type"] == "Disk"]
        self.assertEqual(len(disks), 2)
        self.assertTrue(all(b["currently_attached"] for b in disks))

        vdis = [b["VDI"] for b in disks]

        r = playbook([os.path.join(HERE, "remove.yml"),
                      "-e", json.dumps({"xs_url": self.gw.url, "xs_password": self.gw.password,
                                        "vm_name": name})], self.dir)
        self.assertEqual(r["shut down through the guest"]["instance"]["state"], "poweredoff")
        self.assertTrue(r["remove"]["changed"])
        self.assertEqual(self.s.call("VM.get_by_name_label", name), [])
        live = set(self.s.call("VDI.get_all"))
        self.assertFalse(live & set(vdis), "the VM's disks outlived it")
