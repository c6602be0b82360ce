#!/bin/sh
# Installs this firmware image into ROOT: "/" on the SoM (as root: also the user, the groups,
# udev and systemd), a temporary folder in the tests (files only).
#
#   sudo ./install.sh /
#
# The image goes into the slot that is not running, then the pointers `current` and `good` flip
# to it, each with one rename. The config in /etc/wallbox is kept when it exists.
set -eu
ROOT=${1:?usage: install.sh ROOT}
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX="$ROOT/opt/wallbox"
VERSION=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$HERE/manifest.json")

mkdir -p "$PREFIX/slots"
CURRENT=$(readlink "$PREFIX/current" 2>/dev/null || true)
if [ "$CURRENT" = slots/a ]; then SLOT=b; else SLOT=a; fi
rm -rf "$PREFIX/slots/$SLOT"
mkdir -p "$PREFIX/slots/$SLOT"
cp -R "$HERE/." "$PREFIX/slots/$SLOT/"
for POINTER in current good; do
  ln -sfn "slots/$SLOT" "$PREFIX/.$POINTER.new"
  mv -T "$PREFIX/.$POINTER.new" "$PREFIX/$POINTER"
done
# An installer's image ends any update trial; its result was about the replaced version.
rm -f "$PREFIX/trial.json" "$PREFIX/result.json" "$PREFIX/trial.json.prev" "$PREFIX/result.json.prev"

mkdir -p "$ROOT/etc/wallbox" "$ROOT/var/lib/wallbox" "$ROOT/etc/systemd/system" "$ROOT/etc/udev/rules.d"
[ -e "$ROOT/etc/wallbox/config.json" ] || cp "$HERE/config.json" "$ROOT/etc/wallbox/config.json"
cp "$HERE/wallbox.service" "$ROOT/etc/systemd/system/wallbox.service"
cp "$HERE/99-wallbox.rules" "$ROOT/etc/udev/rules.d/99-wallbox.rules"

if [ "$ROOT" = / ] && [ "$(id -u)" -eq 0 ]; then
  for GROUP in gpio i2c dialout; do
    getent group "$GROUP" >/dev/null || groupadd --system "$GROUP"
  done
  getent passwd wallbox >/dev/null || useradd --system --user-group --home-dir /var/lib/wallbox --shell /usr/sbin/nologin wallbox
  usermod -a -G gpio,i2c,dialout wallbox
  chown -R wallbox:wallbox /opt/wallbox /var/lib/wallbox
  chown root:wallbox /etc/wallbox /etc/wallbox/config.json
  chmod 750 /etc/wallbox
  chmod 640 /etc/wallbox/config.json
  udevadm control --reload-rules && udevadm trigger || echo "install.sh: udev not reloaded; reboot to apply the rules" >&2
  systemctl daemon-reload
  systemctl enable wallbox.service
  systemctl restart wallbox.service
fi
echo "installed wallbox-firmware $VERSION into $PREFIX/slots/$SLOT"
