"""How each mail reads: a subject, a plain-text part and an HTML part, from the template files
in ``templates/`` (shipped inside the package). Every value put into the HTML is escaped."""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from importlib import resources
from string import Template
from urllib.parse import quote

from application.mail import Mail, MailKind

PRODUCT = "Keel"
HIDDEN = "[hidden]"

_SUBJECTS = {
    MailKind.WELCOME: f"Welcome to {PRODUCT}",
    MailKind.VERIFY_EMAIL: f"Verify your email address for {PRODUCT}",
    MailKind.PASSWORD_RESET: f"Reset your {PRODUCT} password",
    MailKind.TEST: f"{PRODUCT} test message",
}
# The page of the web app each link opens; kinds without one carry no link.
_PAGES = {
    MailKind.VERIFY_EMAIL: "/verify-email",
    MailKind.PASSWORD_RESET: "/reset-password",
}


@dataclass(frozen=True, slots=True)
class RenderedMail:
    subject: str
    text: str
    html: str
    link: str | None


def render(mail: Mail, base_url: str, *, show_token: bool = True) -> RenderedMail:
    """``show_token`` False puts ``[hidden]`` in the link instead of the token."""
    base = base_url.rstrip("/")
    link = _link(mail, base, show_token)
    subject = _SUBJECTS[mail.kind]
    values = {
        "product": PRODUCT,
        "greeting": f"Hello {mail.full_name}," if mail.full_name else "Hello,",
        "email": mail.to,
        "base_url": base,
        "link": link or "",
        "expiry": _expiry(mail.expires_in_minutes),
    }
    escaped = {key: html.escape(value, quote=True) for key, value in values.items()}
    content = _template(f"{mail.kind.value}.html").substitute(escaped).strip()
    return RenderedMail(
        subject=subject,
        text=_template(f"{mail.kind.value}.txt").substitute(values),
        html=_template("layout.html").substitute(
            subject=html.escape(subject), product=escaped["product"], content=content
        ),
        link=link,
    )


def _link(mail: Mail, base: str, show_token: bool) -> str | None:
    page = _PAGES.get(mail.kind)
    if page is None:
        return None
    if not mail.token:
        raise ValueError(f"a {mail.kind.value} mail needs a token")
    token = quote(mail.token, safe="") if show_token else HIDDEN
    return f"{base}{page}?token={token}"


def _expiry(minutes: int | None) -> str:
    if minutes is None:
        return "The link works once."
    if minutes >= 60 and minutes % 60 == 0:
        hours = minutes // 60
        span = f"{hours} hour" if hours == 1 else f"{hours} hours"
    else:
        span = f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"
    return f"The link works once, within {span}."


@functools.cache
def _template(name: str) -> Template:
    source = resources.files("adapters.email") / "templates" / name
    return Template(source.read_text(encoding="utf-8"))
