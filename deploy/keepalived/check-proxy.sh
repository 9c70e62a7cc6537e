#!/bin/sh
# keepalived's health check of the local edge proxy: exit 0 when it answers /healthz (through to
# a gateway node) within a second. Usage: check-proxy.sh PORT
exec curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:${1:-80}/healthz"
