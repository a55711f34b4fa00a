firewall-cmd --state
