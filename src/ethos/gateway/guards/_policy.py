"""The policy guard: deny-list, regex rules, prompt size, injection cues, secrets, system-prompt leaks.

Prompts, in this order: size (``policy.prompt_too_long``), deny-list (``policy.deny_list``), rules
(``policy.rule.<name>``), injection cues (``policy.prompt_injection``, user and tool texts only:
system prompts are the operator's), secrets (``policy.secret_leak``). Answers: deny-list, rules,
secrets and system-prompt echoes (``policy.system_prompt_leak``), whole or streamed through a
:class:`~ethos.gateway.guards._stream.WindowFilter`; a block mid-stream raises
:class:`~ethos.errors.RequestRefused`, which the app sends as an in-band error.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ethos.errors import ConfigError, RequestRefused
from ethos.gateway._config import PolicyConfig, RuleConfig
from ethos.gateway._limits import prompt_tokens
from ethos.gateway._types import Action, GuardContext, TextFilter
from ethos.gateway.guards._heuristics import LeakFinder, score_injection
from ethos.gateway.guards._stream import Hit, WindowFilter

if TYPE_CHECKING:
    from ethos.pii import Analyzer

__all__ = ["ANSWER_HOLDBACK", "PolicyGuard"]

ANSWER_HOLDBACK = 64
"""Characters a streamed answer is held back for rule, secret and leak matching (≥ 40, the leak length)."""

SECRET_ENTITIES = ("API_KEY", "SECRET")
_GATEWAY_TOKEN = re.compile(r"\beth_[0-9a-f]{12}_[A-Za-z0-9_\-]{43}(?![A-Za-z0-9_\-])")
_SECRET_MARK = "[REDACTED:SECRET]"  # noqa: S105 - the replacement text, not a secret


class PolicyGuard:
    """Enforces ``[policy]``: see the module docstring for what runs, in which order.

    Args:
        config: The ``[policy]`` section.
        analyzer: A patterns-only analyzer for ``API_KEY``/``SECRET`` (built by :meth:`load` otherwise).
    """

    name = "policy"

    def __init__(self, config: PolicyConfig, analyzer: Analyzer | None = None) -> None:
        """Compile the deny-list and the rules.

        Raises:
            ConfigError: When a rule's pattern is not a valid regular expression.
        """
        self.config = config
        self._analyzer = analyzer
        self._deny = [
            (phrase, re.compile(rf"(?<!\w){re.escape(phrase.strip())}(?!\w)", re.IGNORECASE))
            for phrase in config.deny_list
            if phrase.strip()
        ]
        self._rules = [(rule, _compile(rule)) for rule in config.rules]
        # Fixed while serving: built once, not per answer (or per streamed text).
        self.answer_rules = [(r, rx) for r, rx in self._rules if r.applies_to in ("answer", "both")]
        self._holdback = max(ANSWER_HOLDBACK, max((len(phrase) for phrase, _ in self._deny), default=0) + 1)

    @property
    def max_answer_tokens(self) -> int:
        """The cap the app puts on ``max_tokens`` (0: none)."""
        return self.config.max_answer_tokens

    def load(self) -> PolicyGuard:
        """Build the secrets analyzer (patterns only) when secrets are checked."""
        if self.config.secrets != "off" and self._analyzer is None:
            from ethos.pii import Analyzer, AnalyzerConfig

            self._analyzer = Analyzer(AnalyzerConfig(entities=SECRET_ENTITIES, spacy_model=None))
        if self._analyzer is not None:
            self._analyzer.load()
        return self

    # -- prompts -----------------------------------------------------------------------------------

    def check_prompt(self, texts: list[str], ctx: GuardContext) -> list[str]:
        """Return the prompt texts with rule and secret redactions, or raise to refuse."""
        limit = self.config.max_prompt_tokens
        if limit and (estimate := prompt_tokens(texts)) > limit:
            raise RequestRefused(
                f"the prompt is about {estimate} tokens (characters / 4), over this gateway's limit of {limit}; "
                "shorten it",
                reason="policy.prompt_too_long",
            )
        for phrase, rx in self._deny:
            if any(rx.search(t) for t in texts):
                ctx.record(self.name, "block", "policy.deny_list", "deny-list phrase")
                raise RequestRefused(f"the prompt contains the denied phrase {phrase!r}; rephrase it",
                                     reason="policy.deny_list")
        texts = [self._apply_rules(t, "prompt", ctx) for t in texts]
        self._check_injection(texts, ctx)
        return self._redact_secrets(texts, ctx)

    def _apply_rules(self, text: str, side: str, ctx: GuardContext) -> str:
        for rule, rx in self._rules:
            if rule.applies_to not in (side, "both") or not rx.search(text):
                continue
            reason = f"policy.rule.{rule.name}"
            if rule.action == "block":
                ctx.record(self.name, "block", reason)
                raise RequestRefused(f"the {side} breaks the gateway's rule {rule.name!r}", reason=reason)
            if rule.action == "redact":
                text, n = rx.subn(f"[REDACTED:{rule.name}]", text)
                ctx.record(self.name, "modify", reason, f"{n} match(es)")
            else:
                ctx.record(self.name, "flag", reason)
        return text

    def _check_injection(self, texts: list[str], ctx: GuardContext) -> None:
        if self.config.prompt_injection == "off":
            return
        system = set(ctx.system_prompts)
        found = [score_injection(t) for t in texts if t not in system]
        hits = [f for f in found if f.detected]
        if not hits:
            return
        cues = sorted({c for f in hits for c in f.cues})
        detail = f"score {max(f.score for f in hits):.1f}: {', '.join(cues)}"
        if self.config.prompt_injection == "block":
            ctx.record(self.name, "block", "policy.prompt_injection", detail)
            raise RequestRefused("the prompt looks like a prompt-injection attempt and was not sent",
                                 reason="policy.prompt_injection")
        ctx.record(self.name, "flag", "policy.prompt_injection", detail)

    def _redact_secrets(self, texts: list[str], ctx: GuardContext) -> list[str]:
        if self.config.secrets == "off":
            return texts
        found = self._secret_spans(texts)
        n = sum(len(spans) for spans in found)
        if not n:
            return texts
        action = self.config.secrets
        if action == "block":
            ctx.record(self.name, "block", "policy.secret_leak", f"{n} secret(s)")
            raise RequestRefused("the prompt contains what looks like a secret (an API key, password or private key); "
                                 "remove it", reason="policy.secret_leak")
        if action == "flag":
            ctx.record(self.name, "flag", "policy.secret_leak", f"{n} secret(s)")
            return texts
        ctx.record(self.name, "modify", "policy.secret_leak", f"{n} secret(s)")
        return [_replace(t, [(s, e, _SECRET_MARK) for s, e in spans]) for t, spans in zip(texts, found, strict=True)]

    def _secret_spans(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Secrets per text: the PII engine's API_KEY/SECRET recognizers plus this gateway's own tokens."""
        if self._analyzer is None:
            self.load()
        analyzer = self._analyzer
        try:
            found = analyzer.scan(list(texts)) if analyzer is not None else [[] for _ in texts]
        except Exception as exc:  # fail closed, as the PII guard does
            raise RequestRefused("the policy guard could not check this request for secrets; it was not sent",
                                 reason="policy.unavailable", status=503) from exc
        out: list[list[tuple[int, int]]] = []
        for text, spans in zip(texts, found, strict=True):
            merged = sorted([(s.start, s.end) for s in spans] + [m.span() for m in _GATEWAY_TOKEN.finditer(text)])
            out.append(_merge(merged))
        return out

    # -- answers -----------------------------------------------------------------------------------

    def check_answer(self, text: str, ctx: GuardContext) -> str:
        """Return the answer with redactions, or raise when it breaks a blocking rule."""
        checker = _AnswerPolicy(self, ctx)
        out = checker.emit(text, checker.find(text))
        checker.record()
        return out

    def stream_filter(self, ctx: GuardContext) -> TextFilter | None:
        """A filter applying :meth:`check_answer` incrementally (``None`` when answers are not checked)."""
        checker = _AnswerPolicy(self, ctx)
        if not checker.active:
            return None
        return WindowFilter(checker.find, checker.emit, holdback=self._holdback, on_finish=checker.record)

    def deny_patterns(self) -> list[tuple[str, re.Pattern[str]]]:
        """The compiled deny-list."""
        return self._deny


class _AnswerPolicy:
    """``find`` + ``emit`` over an answer: each hit carries (action, reason, replacement)."""

    def __init__(self, guard: PolicyGuard, ctx: GuardContext) -> None:
        self._guard = guard
        self._ctx = ctx
        self._rules = guard.answer_rules
        self._deny = guard.deny_patterns()
        self._leaks = LeakFinder(ctx.system_prompts) if guard.config.system_prompt_leak != "off" else None
        self._secrets = guard.config.secrets
        self.counts: Counter[tuple[Action, str]] = Counter()
        self.active = bool(self._rules or self._deny or self._leaks or self._secrets != "off")

    def find(self, text: str) -> list[Hit]:
        hits: list[Hit] = []
        payload: tuple[str, str, str]
        for phrase, rx in self._deny:
            hits += [(m.start(), m.end(), ("block", "policy.deny_list", f"the answer contained the denied phrase "
                                           f"{phrase!r}; it was withheld")) for m in rx.finditer(text)]
        for rule, rx in self._rules:
            reason = f"policy.rule.{rule.name}"
            payload = (rule.action, reason, f"[REDACTED:{rule.name}]" if rule.action == "redact" else
                       f"the answer broke the gateway's rule {rule.name!r}; it was withheld")
            hits += [(m.start(), m.end(), payload) for m in rx.finditer(text) if m.end() > m.start()]
        if self._secrets != "off":
            action: str = "modify" if self._secrets == "redact" else self._secrets
            payload = (action, "policy.secret_leak", _SECRET_MARK if action == "modify" else
                       "the answer contained what looks like a secret; it was withheld")
            hits += [(s, e, payload) for s, e in self._guard._secret_spans([text])[0]]
        if self._leaks:
            action = str(self._guard.config.system_prompt_leak)
            payload = (action, "policy.system_prompt_leak", "the answer repeated the system prompt; it was withheld")
            hits += [(s, e, payload) for s, e in self._leaks.find(text)]
        return hits

    def emit(self, text: str, hits: Sequence[Hit]) -> str:
        for _, _, (action, reason, message) in hits:
            if action == "block":
                self._ctx.record("policy", "block", reason)
                raise RequestRefused(message, reason=reason, status=403)
        changes: list[tuple[int, int, str]] = []
        for start, end, (action, reason, replacement) in hits:
            kind: Action = "modify" if action in ("redact", "modify") else "flag"
            self.counts[(kind, reason)] += 1
            if kind == "modify":
                changes.append((start, end, replacement))
        return _replace(text, changes)

    def record(self) -> None:
        for (action, reason), n in self.counts.items():
            self._ctx.record("policy", action, reason, f"{n} match(es) in the answer")


def _compile(rule: RuleConfig) -> re.Pattern[str]:
    try:
        return re.compile(rule.pattern, re.IGNORECASE if rule.ignore_case else 0)
    except re.error as exc:
        raise ConfigError(f"[[policy.rules]] {rule.name!r}: pattern {rule.pattern!r} is not a valid regular "
                          f"expression ({exc}); fix it in gateway.toml") from None


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and s < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _replace(text: str, changes: Sequence[tuple[int, int, Any]]) -> str:
    """Replace non-overlapping ``(start, end, new)`` in ``text`` (later overlaps are skipped)."""
    parts: list[str] = []
    cursor = 0
    for start, end, new in sorted(changes, key=lambda c: (c[0], -c[1])):
        if start < cursor:
            continue
        parts += [text[cursor:start], str(new)]
        cursor = end
    parts.append(text[cursor:])
    return "".join(parts)
