"""API keys (well-known prefixes), and secrets (private keys, values assigned to password/secret/token).

API keys: AWS access key ids, GitHub, Slack, OpenAI/Anthropic-style ``sk-``, Stripe, Google
``AIza``, Hugging Face ``hf_`` tokens and JWTs; their prefixes make them near-certain (0.9).
Secrets: PEM private-key blocks (1.0) and the value after ``password``, ``secret``, ``token``,
``api_key`` (also prefixed: ``db_password``) followed by ``:`` or ``=``: 0.5; in prose ("the
password is …", "reset the password to …") 0.3; either 0.85 when the value looks random
(Shannon entropy ≥ 3 bits per character over ≥ 10 characters). Placeholders (``****``,
``<redacted>``, ``${VAR}``, ``changeme``) are not reported.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from ethos.pii.detect._recognizer import Pattern, PatternRecognizer, recognizer

__all__ = ["ApiKeyRecognizer", "SecretRecognizer", "shannon_entropy"]

_END = r"(?![A-Za-z0-9_\-])"


@recognizer("api_key")
class ApiKeyRecognizer(PatternRecognizer):
    """Tokens whose prefix names the service that issued them."""

    entity = "API_KEY"
    patterns = (
        Pattern("aws access key id", rf"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{{16}}{_END}", 0.9),
        Pattern("github token", rf"\bgh[pousr]_[A-Za-z0-9]{{36,255}}{_END}", 0.9),
        Pattern("github fine-grained token", rf"\bgithub_pat_[A-Za-z0-9_]{{50,255}}{_END}", 0.9),
        Pattern("slack token", rf"\bxox[abposr]-[A-Za-z0-9\-]{{10,250}}{_END}", 0.9),
        Pattern("openai-style sk- key",
                rf"\bsk-(?:proj-|svcacct-|admin-|ant-(?:api\d\d-)?)?[A-Za-z0-9_\-]{{20,200}}{_END}", 0.9),
        Pattern("stripe key", rf"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{{16,99}}{_END}", 0.9),
        Pattern("google api key", rf"\bAIza[0-9A-Za-z_\-]{{35}}{_END}", 0.9),
        Pattern("hugging face token", rf"\bhf_[A-Za-z]{{30,40}}{_END}", 0.9),
        Pattern("jwt", rf"\beyJ[A-Za-z0-9_\-]{{8,}}\.eyJ[A-Za-z0-9_\-]{{8,}}\.[A-Za-z0-9_\-]{{10,}}{_END}", 0.9),
    )
    context = ("key", "token", "api", "secret", "credential", "bearer", "auth")
    required = ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "gh", "xox", "sk-", "k_", "AIza", "hf_", "eyJ")


_KEYWORD = (r"(?:password|passwd|passwort|pwd|pass|secret|client_secret|secret_key|token|access_token|auth_token"
            r"|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|credentials?)")
_PREFIX = r"(?:[a-z0-9]+[_\-.])*"
_VALUE = r"(?P<value>[^\s\"'`,;]{5,199}[^\s\"'`,;.!?)])"
_PLACEHOLDER = re.compile(r"^(?:\*+|x+|\.+|<[^>]*>|\$\{?[A-Za-z_]+\}?|%\w+%|changeme|password|secret|none|null|"
                          r"redacted|\[redacted\]|your[_\-]?\w*|example\w*)$", re.IGNORECASE)


@recognizer("secret")
class SecretRecognizer(PatternRecognizer):
    """Private keys and assigned credentials."""

    entity = "SECRET"
    patterns = (
        Pattern("pem private key",
                r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]+?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----", 1.0),
        Pattern("assigned credential",
                rf"(?i)(?<![a-z0-9]){_PREFIX}{_KEYWORD}(?![a-z0-9])[\"']?\s*[:=]\s*[\"']?{_VALUE}", 0.5),
        Pattern("credential in prose", rf"(?i)(?<![a-z0-9]){_PREFIX}{_KEYWORD}(?![a-z0-9])[\"']?\s+(?:is|was|to|of)\s+"
                rf"[\"']?{_VALUE}", 0.3),
    )
    context = ()
    required = ("-----BEGIN", "ass", "ecret", "oken", "key", "Key", "KEY", "pwd", "PWD", "ASS", "ECRET", "OKEN",
                "redential", "REDENTIAL")
    validated_score = 0.85

    def validate(self, value: str) -> bool | None:
        """Drop placeholders; ``True`` for random-looking values (entropy), ``None`` otherwise."""
        if value.startswith("-----BEGIN"):
            return None
        stripped = value.rstrip(".")
        if _PLACEHOLDER.match(stripped):
            return False
        return True if len(stripped) >= 10 and shannon_entropy(stripped) >= 3.0 else None


def shannon_entropy(value: str) -> float:
    """Shannon entropy of the characters of ``value``, in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())
