"""Translations: gettext catalogs (Babel) for en and zh, and which language a message is rendered in.

Source strings are English and are their own msgid; `zh` lives in `locale/zh/LC_MESSAGES/<area>.po`,
one file per area of the code so parallel work does not collide. Use:

    from bot.i18n import _, N_, ngettext, use_language

    _("Incident {ref} declared by {who}.", ref=ref, who=who)   # translate, then str.format
    TITLE = N_("Response steps")                                 # mark now, translate at render: _(TITLE)

`python -m bot.i18n sync` adds every msgid the code uses to its area's .po (empty msgstr to fill in);
`python -m bot.i18n missing` lists those still untranslated. tests/i18n fails on either.
"""

from bot.i18n.catalog import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    N_,
    _,
    current_language,
    default_language,
    gettext,
    language_of_locale,
    ngettext,
    set_default_language,
    use_language,
    word_for,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "_",
    "current_language",
    "default_language",
    "gettext",
    "language_of_locale",
    "ngettext",
    "set_default_language",
    "use_language",
    "word_for",
]
