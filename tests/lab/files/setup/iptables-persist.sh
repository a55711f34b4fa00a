cp /etc/hpsl/rules.v4 /etc/iptables/rules.v4
cp /etc/hpsl/rules.v6 /etc/iptables/rules.v6
systemctl enable netfilter-persistent
systemctl restart netfilter-persistent
