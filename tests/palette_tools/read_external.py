"""Read one of our palette files with a third-party package, in its own process; print JSON.

    python -I read_external.py <package dir or ""> ase <file>   # PyPI `swatch` (ASE)
    python -I read_external.py <package dir or ""> aco <file>   # PyPI `adobe-color-swatch` (ACO)

Both packages install a module named ``swatch``, so each runs in a process whose path starts with
its own install folder. Prints ``{"module": ..., "swatches": [...]}``, or exits 3 when the module
found is not the one asked for.
"""

import json
import sys

folder, kind, path = sys.argv[1:4]
if folder:
    sys.path.insert(0, folder)

import swatch  # noqa: E402

if kind == "ase":
    if not hasattr(swatch, "parse"):
        sys.exit(3)
    out = []
    for item in swatch.parse(path):
        for sw in item.get("swatches", [item]):
            out.append({"group": item["name"] if "swatches" in item else None, "name": sw["name"],
                        "type": sw["type"], "mode": sw["data"]["mode"], "values": sw["data"]["values"]})
else:
    try:
        from swatch.swatch import load_aco_file
    except ImportError:
        sys.exit(3)
    with open(path, "rb") as fh:
        out = [{"name": c.name, "space": c.color_space.value, "hex": c.color_hex} for c in load_aco_file(fh)]
print(json.dumps({"module": swatch.__file__, "swatches": out}))
