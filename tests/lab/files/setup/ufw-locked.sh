ufw allow 22/tcp
ufw default deny incoming
ufw default deny outgoing
ufw --force enable
