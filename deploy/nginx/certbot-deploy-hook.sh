#!/bin/sh
# certbot deploy hook: reloads nginx after a certificate is renewed, once the configuration
# passes `nginx -t`. Install with:
#   install -m 0755 deploy/nginx/certbot-deploy-hook.sh /etc/letsencrypt/renewal-hooks/deploy/reload-nginx.sh
# certbot's systemd timer (Debian's certbot package) runs `certbot renew` twice a day.
set -eu
nginx -t -q
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx; then
    systemctl reload nginx
else
    nginx -s reload
fi
