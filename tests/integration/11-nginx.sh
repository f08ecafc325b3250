#!/bin/sh
# nginx behind an outlet, curl through the inlet.  Asserts: a small page
# and a 64 MiB random file download intact (SHA-256 compared), two requests
# on one kept-alive connection, and an 8 MiB upload (PUT) stored intact.
. "$(dirname "$0")/lib.sh"
need nginx curl sha256sum

HTTP_PORT=$(free_port)
mkdir -p "$WORK/www" "$WORK/nginx/tmp"
echo "hello through sallyport" >"$WORK/www/index.html"
head -c 67108864 /dev/urandom >"$WORK/www/big.bin"
want=$(sha256sum <"$WORK/www/big.bin" | cut -d' ' -f1)

# A test-owned nginx: foreground, every path in the work directory.  As root
# the workers must stay root to read the 0700 work directory.
user_line=""
[ "$(id -u)" != 0 ] || user_line="user root root;"
cat >"$WORK/nginx/nginx.conf" <<CONF
$user_line
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log info;
events { worker_connections 128; }
http {
	access_log $WORK/nginx/access.log;
	client_body_temp_path $WORK/nginx/tmp/body;
	proxy_temp_path $WORK/nginx/tmp/proxy;
	fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
	uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
	scgi_temp_path $WORK/nginx/tmp/scgi;
	client_max_body_size 16m;
	server {
		listen 127.0.0.1:$HTTP_PORT;
		root $WORK/www;
		location /upload/ { dav_methods PUT; create_full_put_path on; }
	}
}
CONF
spawn "$WORK/nginx/stderr.log" nginx -e "$WORK/nginx/error.log" \
	-p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
NODE_LOGS="$NODE_LOGS $WORK/nginx/error.log"
wait_for_port "$HTTP_PORT" 10

tunnel web "127.0.0.1:$HTTP_PORT"
URL="http://127.0.0.1:$INLET_PORT"

# Small page, then two requests on one connection (curl reuses it).
got=$(curl -sS --max-time 10 "$URL/index.html") || die "curl index failed"
[ "$got" = "hello through sallyport" ] || die "index.html came back as '$got'"
curl -sS --max-time 10 -o /dev/null -o /dev/null -w '%{num_connects}\n' \
	"$URL/index.html" "$URL/index.html" >"$WORK/keepalive.out" 2>&1 ||
	die "keep-alive requests failed"
[ "$(sed -n 2p "$WORK/keepalive.out")" = 0 ] ||
	die "curl did not reuse the connection: $(tr '\n' ' ' <"$WORK/keepalive.out")"

# The 64 MiB download.
curl -sS --max-time 60 -o "$WORK/big.out" "$URL/big.bin" || die "download failed"
got=$(sha256sum <"$WORK/big.out" | cut -d' ' -f1)
[ "$got" = "$want" ] || die "64 MiB download differs ($(stat -c %s "$WORK/big.out") bytes)"

# An 8 MiB upload (WebDAV PUT: nginx stores it, we compare checksums).
head -c 8388608 /dev/urandom >"$WORK/up.bin"
code=$(curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -T "$WORK/up.bin" \
	"$URL/upload/up.bin") || die "upload failed"
[ "$code" = 201 ] || die "upload answered HTTP $code"
[ "$(sha256sum <"$WORK/www/upload/up.bin" | cut -d' ' -f1)" = \
	"$(sha256sum <"$WORK/up.bin" | cut -d' ' -f1)" ] || die "upload differs"

log_has "$WORK/out.log" event=audit decision=allow role=outlet service=web ||
	die "no allow audit line on the outlet"
say "ok"
