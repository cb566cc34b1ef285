"""Print the demo token and a ready-to-paste curl line from `seed_demo --json` output."""

import json
import sys

with open(sys.argv[1]) as handle:
    demo = json.load(handle)
base = "http://127.0.0.1:8000"
print()
print("Daylit is starting at " + base + "  (admin: /admin/, API docs: /api/docs/)")
print(f"  company_id: {demo['company_id']}")
print(f"  token:      {demo['token']}")
print("Try:")
print(
    f"  curl -s -H 'Authorization: Token {demo['token']}' {base}/api/companies/{demo['company_id']}/customers"
)
print()
