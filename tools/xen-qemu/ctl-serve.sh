#!/bin/bash
# dom0 side of the control channel (socat EXEC, one process per connection):
# reads a bash script until EOF (the client half-closes), runs it as root with
# stdin /dev/null and prints its combined output followed by "XG-CTL-RC=<n>".
# Clients read until that line, not until EOF: a daemon the script starts
# (xl create ...) may keep the socket open.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C
script=$(cat)
cd /root
timeout -k 5 "${XG_CTL_TIMEOUT:-600}" bash -c "$script" < /dev/null 2>&1
rc=$?
printf '\nXG-CTL-RC=%d\n' $rc
