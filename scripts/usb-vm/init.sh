#!/bin/busybox sh
# PID 1 of the USB test VM: mount the pseudo filesystems, load the USB modules in dependency order, run the
# test program and power off. Everything the host reads is on the serial console between the markers.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin HOME=/root TMPDIR=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o size=1536m tmpfs /tmp
ifconfig lo 127.0.0.1 up 2>/dev/null

ok=1
for m in $(cat /etc/usb-vm/modules); do
  insmod "/lib/modules/$m.ko" || { echo "FLASHLINE-USB-ERROR insmod $m failed"; ok=0; }
done
mount -t configfs configfs /sys/kernel/config || ok=0

echo "=== FLASHLINE-USB-BEGIN ==="
if [ "$ok" = 1 ]; then
  cd /app && sh /etc/usb-vm/cmd
  rc=$?
else
  rc=90
fi
echo "=== FLASHLINE-USB-END rc=$rc ==="
sync
poweroff -f
