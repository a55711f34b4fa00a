set -eu
R="$1"
mkdir -p "$R/var/cache/hpsl-debs" "$R/etc/hpsl"
chroot "$R" sh -c 'cd /var/cache/hpsl-debs && apt-get -q download {debs}' >/dev/null
chroot "$R" openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=hpsum-lab \
    -keyout /etc/hpsl/tls.key -out /etc/hpsl/tls.crt 2>/dev/null
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
         fstrim.timer man-db.timer systemd-networkd-wait-online.service; do
    ln -sf /dev/null "$R/etc/systemd/system/$u"
done
printf 'PasswordAuthentication no\nUseDNS no\n' > "$R/etc/ssh/sshd_config.d/hpsl.conf"
: > "$R/etc/resolv.conf"
: > "$R/etc/machine-id"
