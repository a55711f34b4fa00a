ufw allow 22/tcp
ufw --force enable
