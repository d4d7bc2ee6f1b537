"""Every diagnostic code with its one-line title: the list that docs, SARIF and tests share.

Codes are stable: a code is never reused for another meaning. Groups:
``E0xx`` files, ``E1xx`` syntax, ``E2xx`` names, imports and scope,
``E3xx`` types and service-model constraints, ``E4xx`` meaning, ``E5xx`` inventory files,
``W...`` warnings. Plugins may report problems with codes of their own.
"""

from __future__ import annotations

CODES: dict[str, str] = {
    # Files.
    "E001": "path not found",
    "E002": "path cannot be read as a rule file",
    "E003": "file is not valid UTF-8",
    "E004": "file too large",
    "E005": "no rule files found",
    # Syntax.
    "E101": "unexpected character",
    "E102": "unterminated string",
    "E103": "invalid escape sequence in a string",
    "E104": "unexpected token",
    "E105": "keyword used as a name",
    "E106": "unknown statement",
    "E107": "unexpected end of file",
    "E108": "too many syntax errors",
    # Names, imports and scope.
    "E201": "undefined name",
    "E202": "name bound twice in one file",
    "E203": "local name clashes with an imported name",
    "E204": "name bound by two imports",
    "E205": "imported file not found",
    "E206": "import cycle",
    "E207": "rule name used twice",
    "E208": "more than one defaults block",
    "E209": "let bindings refer to each other in a cycle",
    "E210": "unknown selector",
    "E211": "unknown notifier",
    "E212": "import outside the repository of the run",
    # Types and service-model constraints.
    "E301": "value of the wrong type",
    "E302": "unknown status",
    "E303": "unknown resource kind",
    "E304": "unknown duration unit",
    "E305": "invalid timestamp",
    "E306": "invalid rule name",
    "E307": "empty list",
    "E308": "nested list",
    "E309": "tag key given two values",
    "E310": "two different last-launched windows",
    "E311": "missing required member (service model)",
    "E312": "value not among the allowed ones (service model)",
    "E313": "value does not match the required pattern (service model)",
    "E314": "length out of range (service model)",
    "E315": "number out of range (service model)",
    "E316": "value of the wrong type for the service model",
    "E317": "invalid selector or notifier argument",
    # Meaning.
    "E401": "rule without status",
    "E402": "rule without target or select",
    "E403": "statement repeated",
    "E404": "`and` between exclusion criteria",
    "E405": "`not` before an exclusion criterion",
    "E406": "role and include must go together",
    "E407": "snapshots included without amis",
    "E408": "snapshots or containers without status deleted",
    "E409": "status deleted without include",
    "E410": "at without status deprecated",
    "E411": "statement not allowed in defaults",
    "E412": "only amis can be excluded",
    "E413": "argument given twice",
    "E414": "token with more than one target",
    "E415": "selector failed",
    "E416": "selector returned something that is not an image build version ARN",
    "E420": "request the service would refuse",
    "E499": "problem reported by a plugin",
    # Inventory files.
    "E501": "inventory file is not valid JSON",
    "E502": "inventory entry does not fit the format",
    "E503": "image listed twice in the inventory",
    # Warnings.
    "W001": "exclusion without include amis has no effect",
    "W002": "region name unknown to every AWS partition",
    "W003": "target listed twice in one rule",
    "W004": "image targeted by more than one rule",
    "W005": "client token longer than older service versions accept",
    "W499": "warning reported by a plugin",
}
