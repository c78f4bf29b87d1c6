#!/usr/bin/env python3
"""bench/templates/evidence_templates.py: warrant-bench template files for the evidence routes.

Standard library only. Used by bench/evidence-load.sh and bench/compare-peers.sh; the files
depend on the API keys of a run, so they are written into the run's scratch directory.

  evidence_templates.py warrant KEYS_FILE OUT_DIR [ENTITIES] [ZIPF_S] [SEEDED]
      KEYS_FILE: one API key a line, each of its own workspace (so its own identity
      namespace). Writes into OUT_DIR:
        evaluate.txt   POST /v1/policy/evaluate, one block per (key, action), weights by
                       action (data.export_pii the heaviest), actor u-{{zipf:ENTITIES:S}}
        bulk100.txt    POST /v1/policy/evaluate/bulk, 100 items, each its own Zipf actor
        export_pii.txt POST /v1/policy/evaluate with action data.export_pii only
        bulk100_pii.txt  the bulk request with data.export_pii in all 100 items
        events.txt     POST /v1/events, Zipf entity, counted types, no occurredAt (so the
                       server never auto-deduplicates: every request is a new durable event)
        seed.txt       POST /v1/events with BACKFILL occurredAt 40-100 days ago, for the
                       SEEDED hottest ranks of every workspace; block weight = events wanted
                       (ranks 0-9: 230, so tier 3 when the earliest is >= 90 days old;
                       10-99: 60 (tier 2); the rest: 14 (tier 1)). Prints the total on stdout.
  evidence_templates.py cerbos OUT_DIR [ENTITIES] [ZIPF_S]
      cerbos1.txt, cerbos100.txt: POST /api/check/resources with 1 and 100 resources of kind
      `data`, action data.export_pii, principal u-{{zipf}} with tier and claimStatus attributes.
"""
import datetime
import os
import random
import sys

ACTIONS = [  # (action, weight): data.export_pii is 30 % of single evaluations
    ("data.export_pii", 30), ("account.login", 20), ("checkout.complete", 10),
    ("message.send", 10), ("payout.request", 8), ("data.export", 6), ("listing.create", 4),
    ("review.submit", 3), ("lending.apply", 2), ("credential.rotate", 2), ("api_key.create", 1),
    ("agent.spawn", 1), ("finance.approve_payment", 2), ("admin.role_grant", 1)]
EVENT_TYPES = [("transaction.completed", 5), ("message.sent", 3), ("review.submitted", 1),
               ("account.verified", 1), ("gig.completed", 1), ("rating.given", 1)]
SEED_TYPES = ["transaction.completed", "message.sent", "review.submitted", "gig.paid"]


def block(method, path, weight, headers, body):
    head = [f"{method} {path}", f"weight: {weight}"] + [f"{k}: {v}" for k, v in headers]
    return "\n".join(head) + "\n\n" + body + "\n---\n"


def write(path, blocks):
    with open(path, "w") as f:
        f.write("".join(blocks))


def warrant(keys_file, out_dir, entities, s, seeded):
    keys = [k.strip() for k in open(keys_file) if k.strip()]
    z = f"{{{{zipf:{entities}:{s}}}}}"
    hdr = lambda key: [("x-api-key", key), ("Content-Type", "application/json")]
    ev, pii, bulk, bulk_pii, events, seed = [], [], [], [], [], []
    for key in keys:
        for action, w in ACTIONS:
            body = (f'{{"actor":{{"type":"human","id":"u-{z}"}},"action":"{action}",'
                    f'"resource":{{"id":"r-{{{{rand:1000}}}}"}}}}')
            ev.append(block("POST", "/v1/policy/evaluate", w, hdr(key), body))
            if action == "data.export_pii":
                pii.append(block("POST", "/v1/policy/evaluate", 1, hdr(key), body))
        # 100 items, actions in proportion to the weights above (deterministic order).
        pool = [a for a, w in ACTIONS for _ in range(w)]
        rnd = random.Random(key)
        items = [f'{{"actor":{{"id":"u-{z}"}},"action":"{rnd.choice(pool)}"}}' for _ in range(100)]
        bulk.append(block("POST", "/v1/policy/evaluate/bulk", 1, hdr(key),
                          '{"evaluations":[' + ",".join(items) + "]}"))
        items = [f'{{"actor":{{"id":"u-{z}"}},"action":"data.export_pii"}}' for _ in range(100)]
        bulk_pii.append(block("POST", "/v1/policy/evaluate/bulk", 1, hdr(key),
                              '{"evaluations":[' + ",".join(items) + "]}"))
        for t, w in EVENT_TYPES:
            events.append(block("POST", "/v1/events", w, hdr(key),
                                f'{{"userExternalId":"u-{z}","eventType":"{t}"}}'))
    write(os.path.join(out_dir, "evaluate.txt"), ev)
    write(os.path.join(out_dir, "export_pii.txt"), pii)
    write(os.path.join(out_dir, "bulk100.txt"), bulk)
    write(os.path.join(out_dir, "bulk100_pii.txt"), bulk_pii)
    write(os.path.join(out_dir, "events.txt"), events)
    # Seed: one block per (key, rank); its date is fixed per entity (40-100 days ago; ranks
    # 0-9: 91-100 days), the time of day and milliseconds are drawn per request, so the
    # occurredAt (hence the auto-dedup key) differs from one event to the next.
    today = datetime.datetime.now(datetime.timezone.utc).date()
    rnd = random.Random(1)
    total = 0
    for key in keys:
        for rank in range(seeded):
            n = 230 if rank < 10 else 60 if rank < 100 else 14
            days = rnd.randint(91, 100) if rank < 10 else rnd.randint(40, 100)
            day = (today - datetime.timedelta(days=days)).isoformat()
            at = (f"{day}T1{{{{rand:10}}}}:{{{{rand:6}}}}{{{{rand:10}}}}:{{{{rand:6}}}}{{{{rand:10}}}}."
                  f"{{{{rand:10}}}}{{{{rand:10}}}}{{{{rand:10}}}}Z")
            body = (f'{{"userExternalId":"u-{rank}","eventType":"{SEED_TYPES[rank % len(SEED_TYPES)]}",'
                    f'"occurredAt":"{at}","batchType":"BACKFILL"}}')
            seed.append(block("POST", "/v1/events", n, hdr(key), body))
            total += n
    write(os.path.join(out_dir, "seed.txt"), seed)
    print(total)


def cerbos(out_dir, entities, s):
    z = f"{{{{zipf:{entities}:{s}}}}}"
    hdr = [("Content-Type", "application/json")]
    one, hundred = [], []
    # tier 0-3 and claimStatus as principal attributes (Cerbos holds no facts: the caller sends them).
    for tier in range(4):
        for status, w in (("clean", 8), ("contested", 1), ("flagged", 1)):
            principal = (f'"principal":{{"id":"u-{z}","roles":["user"],'
                         f'"attr":{{"tier":{tier},"claimStatus":"{status}"}}}}')
            res = '{"actions":["data.export_pii"],"resource":{"kind":"data","id":"r-{{rand:1000}}"}}'
            one.append(block("POST", "/api/check/resources", w, hdr,
                             f'{{"requestId":"{{{{seq}}}}",{principal},"resources":[{res}]}}'))
            res100 = ",".join(f'{{"actions":["data.export_pii"],"resource":{{"kind":"data","id":"r-{i}"}}}}'
                              for i in range(100))
            hundred.append(block("POST", "/api/check/resources", w, hdr,
                                 f'{{"requestId":"{{{{seq}}}}",{principal},"resources":[{res100}]}}'))
    write(os.path.join(out_dir, "cerbos1.txt"), one)
    write(os.path.join(out_dir, "cerbos100.txt"), hundred)


def main(argv):
    if len(argv) >= 3 and argv[0] == "warrant":
        warrant(argv[1], argv[2], int(argv[3]) if len(argv) > 3 else 100000,
                argv[4] if len(argv) > 4 else "1.1", int(argv[5]) if len(argv) > 5 else 500)
    elif len(argv) >= 2 and argv[0] == "cerbos":
        cerbos(argv[1], int(argv[2]) if len(argv) > 2 else 100000, argv[3] if len(argv) > 3 else "1.1")
    else:
        print(__doc__, file=sys.stderr)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
