"""Alarms as XAPI raises them (its perfmon daemon, python3/bin/perfmon): other_config:perfmon of the
host or a VM names variables and levels; a value on the wrong side for alarm_trigger_period seconds
posts an ALARM message (priority alarm_priority, 3 by default) whose body XO Lite parses
(@xen-orchestra/lite src/libs/alarm.ts parseAlarmBody: "value: X", "config:", then the <variable>).
"Host memory low" is memory_free_kib, whose default sense is low. Hostile configs watch nothing."""
import unittest
import xml.etree.ElementTree as ET

from gateway import GatewayTestCase, sim_only, wait_until


def perfmon(name, level, **tags):
    extra = "".join('<%s value="%s"/>' % (k, v) for k, v in tags.items())
    return ('<config><variable><name value="%s"/><alarm_trigger_level value="%s"/>%s'
            '</variable></config>' % (name, level, extra))


def parse_alarm_body(body):
    """What XO Lite does with an ALARM's body."""
    lines = body.split("\n")
    level = float(lines[0].split(":")[1].strip())
    self_check = lines[1]
    variable = ET.fromstring("\n".join(lines[2:]))
    return {"level": level, "config_line": self_check,
            "type": variable.find("name").get("value"),
            "trigger": float(variable.find("alarm_trigger_level").get("value"))}


@sim_only
class AlarmTest(GatewayTestCase):
    def alarms(self, uuid, besides=()):
        """ALARM messages about uuid, oldest first, but those whose ref is in besides."""
        recs = self.s.call("message.get_all_records_where", 'field "name" = "ALARM"')
        return [r for ref, r in sorted(recs.items(), key=lambda kv: kv[1]["timestamp"])
                if r["obj_uuid"] == uuid and ref not in besides]

    def alarm_refs(self):
        return set(self.s.call("message.get_all_records_where", 'field "name" = "ALARM"'))

    def test_host_memory_low(self):
        h = self.s.call("host.get_all")[0]
        uuid = self.s.call("host.get_uuid", h)
        free_kib = int(self.s.call("host_metrics.get_memory_free",
                                   self.s.call("host.get_metrics", h))) // 1024
        # a level above what is free: memory is "low" at once (period 0: no minute's wait)
        level = free_kib * 2 + 1024
        self.s.call("host.add_to_other_config", h, "perfmon",
                    perfmon("memory_free_kib", level, alarm_trigger_period=0))
        try:
            got = wait_until(lambda: self.alarms(uuid), 60, 0.2, "a host memory ALARM")
        finally:
            self.s.call("host.remove_from_other_config", h, "perfmon")
        m = got[0]
        self.assertEqual((m["name"], int(m["priority"]), m["cls"]), ("ALARM", 3, "Host"))
        a = parse_alarm_body(m["body"])
        self.assertEqual(a["config_line"], "config:")
        self.assertEqual(a["type"], "memory_free_kib")
        self.assertEqual(a["trigger"], level)
        self.assertLess(a["level"], level)
        self.assertGreater(a["level"], 0)

    def test_vm_cpu_usage_with_priority(self):
        running = self.guests("Running")
        vm, rec = running[-1]
        old = self.alarm_refs()
        self.s.call("VM.remove_from_other_config", vm, "perfmon")
        self.s.call("VM.add_to_other_config", vm, "perfmon",
                    perfmon("cpu_usage", -1, alarm_trigger_period=0, alarm_priority=2))
        try:
            got = wait_until(lambda: self.alarms(rec["uuid"], old), 60, 0.2, "a VM cpu_usage ALARM")
            m = got[0]
            self.assertEqual((int(m["priority"]), m["cls"]), (2, "VM"))
            a = parse_alarm_body(m["body"])
            self.assertEqual(a["type"], "cpu_usage")
            self.assertGreaterEqual(a["level"], 0)
            # auto-inhibit (3600 s by default): one alarm however long the level stays bad. A
            # second guest alarming at every tick (inhibit 0) witnesses two more evaluations.
            if len(running) < 2:
                self.skipTest("a second running guest witnesses the ticks")
            witness, wrec = running[0]
            self.s.call("VM.remove_from_other_config", witness, "perfmon")
            self.s.call("VM.add_to_other_config", witness, "perfmon",
                        perfmon("cpu_usage", -1, alarm_trigger_period=0,
                                alarm_auto_inhibit_period=0))
            seen = len(self.alarms(wrec["uuid"]))
            wait_until(lambda: len(self.alarms(wrec["uuid"])) >= seen + 2, 60, 0.2, "two ticks")
            self.s.call("VM.remove_from_other_config", witness, "perfmon")
            self.assertEqual(len(self.alarms(rec["uuid"], old)), 1)
        finally:
            self.s.call("VM.remove_from_other_config", vm, "perfmon")

    def test_hostile_configs_watch_nothing(self):
        h = self.s.call("host.get_all")[0]
        host_uuid = self.s.call("host.get_uuid", h)
        before = len(self.alarms(host_uuid))
        hostile = [
            '<!DOCTYPE c [<!ENTITY a "b">]>' + perfmon("memory_free_kib", 10 ** 15,
                                                        alarm_trigger_period=0),
            perfmon("memory_free_kib", 10 ** 15, alarm_trigger_period=0)[:-9],   # unclosed
            perfmon("memory_free_kib", "NaN", alarm_trigger_period=0),
            perfmon("memory_free_kib", 10 ** 15, alarm_trigger_period=-5),
            "<config>" + "<variable>" * 5000,
            "<config>" + perfmon("memory_free_kib", 10 ** 15,
                                 alarm_trigger_period=0)[8:-9] * 50 + "</config>",  # 50 variables
            "<config>" + " " * 70000 + perfmon("memory_free_kib", 10 ** 15,
                                               alarm_trigger_period=0)[8:],       # too long
        ]
        vm, rec = self.guests("Running")[0]
        for cfg in hostile:
            self.s.call("host.remove_from_other_config", h, "perfmon")
            self.s.call("host.add_to_other_config", h, "perfmon", cfg)
            # a VM alarm after the change proves a tick read the hostile config
            self.s.call("VM.remove_from_other_config", vm, "perfmon")
            seen = len(self.alarms(rec["uuid"]))
            self.s.call("VM.add_to_other_config", vm, "perfmon",
                        perfmon("cpu_usage", -1, alarm_trigger_period=0,
                                alarm_auto_inhibit_period=0, alarm_priority=4))
            wait_until(lambda: len(self.alarms(rec["uuid"])) > seen, 60, 0.2, "a VM ALARM")
            self.assertEqual(len(self.alarms(host_uuid)), before, cfg[:80])
        self.s.call("host.remove_from_other_config", h, "perfmon")
        self.s.call("VM.remove_from_other_config", vm, "perfmon")


if __name__ == "__main__":
    unittest.main()
