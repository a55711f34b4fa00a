export DEBIAN_FRONTEND=noninteractive
dpkg --purge ufw >/dev/null
dpkg -i /var/cache/hpsl-debs/*.deb >/dev/null
