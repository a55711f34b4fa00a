systemctl enable nftables
systemctl restart nftables
