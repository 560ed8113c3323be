"""Template specs as frozen data, and the key-path-aware parsing every sheet kind shares.

Loading a spec file (built-in id or path, YAML, cross-checks) is ``xlcheck.spec_loading``:
it needs the sheet kinds of ``xlcheck.layout``, which build on this package.
"""

from xlcheck.spec.model import (
    DEFAULT_PRECISION,
    KNOWN_ROLES,
    NUMERIC_TYPES,
    VALUE_TYPES,
    BlockSpec,
    CheckSpec,
    Derivation,
    FieldSpec,
    Grade,
    Grading,
    LinkSpec,
    Operand,
    RepeatSpec,
    ScoreRule,
    SheetSpec,
    Spec,
)

__all__ = [
    "DEFAULT_PRECISION",
    "KNOWN_ROLES",
    "NUMERIC_TYPES",
    "VALUE_TYPES",
    "BlockSpec",
    "CheckSpec",
    "Derivation",
    "FieldSpec",
    "Grade",
    "Grading",
    "LinkSpec",
    "Operand",
    "RepeatSpec",
    "ScoreRule",
    "SheetSpec",
    "Spec",
]
