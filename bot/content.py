"""Load and validate everything in `content/` once, at start-up.

Every sentence the bot says lives in `content/` (TOML), never in Python. Data files are read
into frozen dataclasses; a malformed file stops start-up with a message that names the file and
the entry. Data values are plain text (escaped when rendered); templates in `content/texts/`
are HTML with `{placeholders}` whose values are escaped by `Texts.get`.
"""

from __future__ import annotations

import dataclasses
import html
import re
import string
import tomllib
import types
import typing
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar
from zoneinfo import available_timezones

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"

DAILY_VALUE_MG = 420  # adult Daily Value used on US labels (NIH ODS)

# Verification levels from the fact base. "unverified" is deliberately absent: such items are
# never shipped, and the loader rejects them.
VERIFICATION_LEVELS = frozenset({"ods_verified", "ods_text_via_copy", "other_source", "computed"})

# Tips and facts are marked as one of these; "health" items carry the disclaimer.
ITEM_KINDS = frozenset({"health", "general"})

FOOD_STATES = frozenset({"raw", "cooked", "dry", "ready"})

FOOD_CATEGORIES = (
    "nuts_seeds",
    "legumes",
    "leafy_greens",
    "whole_grains",
    "fruit",
    "dairy_soy",
    "fish_meat",
    "other",
)


class ContentError(ValueError):
    """A content file is missing, malformed or inconsistent."""


# --------------------------------------------------------------------------------------------
# Data classes (one per kind of entry)


@dataclass(frozen=True)
class Source:
    """A place the facts come from."""

    id: str
    name: str
    url: str
    note: str = ""


@dataclass(frozen=True)
class Sourced:
    """Base for every fact-bearing entry: where it comes from and how well it is checked."""

    source: tuple[str, ...]
    verification: str


@dataclass(frozen=True)
class Category:
    """A food category for browsing."""

    id: str
    title: str
    emoji: str = ""


@dataclass(frozen=True)
class Food(Sourced):
    """One food with its magnesium content."""

    id: str
    name: str
    category: str
    serving: str  # household measure, e.g. "1 ounce (28 g)"
    serving_g: float  # grams in one serving (for "/food almonds 50g")
    mg_per_serving: float
    mg_per_100g: float
    aliases: tuple[str, ...] = ()
    fdc_id: int | None = None  # USDA FoodData Central record behind mg_per_100g
    serving_mg_max: float | None = None  # when the table gives a range (milk: 24-27 mg)
    per_100g_source: tuple[str, ...] = ()
    per_100g_verification: str = ""
    note: str = ""
    # What mg_per_100g describes when it is not the food as served (e.g. "dry, uncooked black
    # beans"). Then serving_g is the weight of that food holding one serving's magnesium.
    per_100g_basis: str = ""
    # False: the sources give no gram weight or per-100 g figure for this food; serving_g and
    # mg_per_100g are placeholders (100 g = one serving) and must not be shown or used for
    # "/food X 50g" answers. Answer with the per-serving figure instead.
    grams_known: bool = True
    # How the serving is weighed: "raw", "cooked", "dry" (uncooked grains and legumes, cooked
    # before eating) or "ready" (eaten as sold: nuts, seeds, dairy, chocolate, canned fish).
    # Required; the per-100 g figure must describe the same state (tests/test_content.py).
    state: str = ""
    ndb: str = ""  # USDA Standard Reference number (NDB) behind mg_per_100g, when no FDC id
    per_100g_record: str = ""  # the USDA record's description, for fdc_id or ndb
    warning: str = ""  # a health caution (Brazil nuts: selenium): the answer gets the disclaimer

    @property
    def dry(self) -> bool:
        """Return True for a dry grain or legume, weighed before cooking."""
        return self.state == "dry"

    @property
    def dv_percent(self) -> int:
        """Return the share of the 420 mg Daily Value in one serving, rounded."""
        return round_half_up(self.mg_per_serving * 100 / DAILY_VALUE_MG)


@dataclass(frozen=True)
class Tip(Sourced):
    """A daily tip."""

    id: str
    text: str
    # "health": touches symptoms, doses, conditions or medicines, so every message carrying it
    # ends with the ask-a-doctor-or-pharmacist line. "general": food and everyday facts.
    kind: str

    @property
    def health(self) -> bool:
        """Return True for a health item (its message ends with the disclaimer)."""
        return self.kind == "health"


@dataclass(frozen=True)
class Fact(Sourced):
    """A fact about magnesium and nerves."""

    id: str
    text: str
    kind: str  # "health" or "general", as for Tip

    @property
    def health(self) -> bool:
        """Return True for a health item (its message ends with the disclaimer)."""
        return self.kind == "health"


@dataclass(frozen=True)
class SymptomItem(Sourced):
    """One line in a symptoms section."""

    text: str


@dataclass(frozen=True)
class SymptomSection:
    """A group of symptom lines (early signs, later signs, ...)."""

    id: str
    title: str
    items: tuple[SymptomItem, ...]
    intro: str = ""


@dataclass(frozen=True)
class SupplementForm(Sourced):
    """A supplement form (citrate, oxide, ...)."""

    id: str
    name: str
    absorption: str
    common_use: str
    note: str = ""


@dataclass(frozen=True)
class UpperLimit(Sourced):
    """A Tolerable Upper Intake Level row for supplemental magnesium."""

    age_from: int  # years, inclusive
    age_to: int | None = None  # years, inclusive; None (key left out) means no upper bound
    mg: int | None = None  # None (key left out): not established (infants)
    label: str = ""


@dataclass(frozen=True)
class InteractionGroup:
    """A group of medicines by what they are for (bones, infections, HIV, ...)."""

    id: str
    title: str
    emoji: str


@dataclass(frozen=True)
class Interaction(Sourced):
    """A medicine (or class of medicines) that interacts with magnesium, with its own timing."""

    id: str
    group: str  # an InteractionGroup id
    name: str  # short label for buttons and the index
    drug_class: str
    examples: str
    effect: str
    timing: str
    aliases: tuple[str, ...] = ()  # generic and brand names to find it by, lower case


@dataclass(frozen=True)
class RdaRow(Sourced):
    """Recommended intake for one age band (mg/day)."""

    label: str
    age_from_months: int  # inclusive
    # Exclusive; None (key left out: TOML has no null) means no upper bound. Keyword-only so
    # it can have a default without reordering the fields.
    age_to_months: int | None = field(default=None, kw_only=True)
    male: int
    female: int
    pregnancy: int | None = None
    lactation: int | None = None
    kind: str = "RDA"  # "AI" for infants


@dataclass(frozen=True)
class FaqItem(Sourced):
    """A frequently asked question with its answer."""

    id: str
    question: str
    answer: str


@dataclass(frozen=True)
class Command:
    """A bot command as shown in /help and in Telegram's command menu."""

    name: str
    description: str
    menu: bool = True  # listed by setMyCommands
    admin: bool = False


@dataclass(frozen=True)
class Supplements:
    """Supplement forms plus the upper limit for supplemental magnesium."""

    forms: tuple[SupplementForm, ...]
    upper_limits: tuple[UpperLimit, ...]
    ul_covers: SymptomItem  # what counts toward the UL, with its source


# --------------------------------------------------------------------------------------------
# Texts


class Texts:
    """Every user-facing template, keyed `<feature>.<purpose>`."""

    def __init__(self, templates: Mapping[str, str]) -> None:
        """Keep the templates; they were validated by the loader."""
        self.templates = dict(templates)

    def get(self, key: str, /, **values: object) -> str:
        """Fill a template. Values are HTML-escaped: replies are sent as HTML."""
        template = self.templates[key]
        return template.format_map({k: html.escape(str(v)) for k, v in values.items()})

    def raw(self, key: str, /) -> str:
        """Return a template that takes no placeholders."""
        return self.templates[key]

    def placeholders(self, key: str) -> frozenset[str]:
        """Return the placeholder names a template expects."""
        return template_fields(self.templates[key])

    def __contains__(self, key: object) -> bool:
        """Return True when the key exists."""
        return key in self.templates


def template_fields(template: str) -> frozenset[str]:
    """Return the `{names}` used by a format string."""
    return frozenset(
        name for _, name, _, _ in string.Formatter().parse(template) if name is not None
    )


# --------------------------------------------------------------------------------------------
# The whole content


@dataclass(frozen=True)
class Content:
    """Everything loaded from `content/`."""

    texts: Texts
    commands: tuple[Command, ...]
    sources: Mapping[str, Source]
    categories: tuple[Category, ...]
    foods: tuple[Food, ...]
    tips: tuple[Tip, ...]
    facts: tuple[Fact, ...]
    symptoms: tuple[SymptomSection, ...]
    supplements: Supplements
    interactions: tuple[Interaction, ...]
    interaction_groups: tuple[InteractionGroup, ...]
    rda: tuple[RdaRow, ...]
    faq: tuple[FaqItem, ...]
    cities: Mapping[str, str]  # cities.toml: normalised city name -> IANA zone
    extra: Mapping[str, Any] = field(default_factory=dict)

    def source_names(self, item: Sourced) -> str:
        """Return the names of an item's sources, joined for display."""
        return "; ".join(self.sources[s].name for s in item.source)

    def food(self, food_id: str) -> Food | None:
        """Return the food with this id, if any."""
        return next((f for f in self.foods if f.id == food_id), None)

    def category(self, category_id: str) -> Category | None:
        """Return the category with this id, if any."""
        return next((c for c in self.categories if c.id == category_id), None)

    def with_disclaimer(self, text: str, item: Tip | Fact) -> str:
        """Return a tip's or fact's message, ending with the disclaimer when it is about health."""
        if not item.health:
            return text
        return f"{text}\n{self.texts.raw('common.disclaimer')}"


def round_half_up(value: float) -> int:
    """Round like a nutrition label: 0.5 goes up (Python's round() goes to even)."""
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


# --------------------------------------------------------------------------------------------
# Loading

T = TypeVar("T")


def _read(directory: Path, name: str) -> dict[str, Any]:
    path = directory / name
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ContentError(f"{name}: file is missing") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"{name}: not valid TOML ({exc})") from exc


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Check one value against a dataclass field's type hint (the few types we use)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, where)
            except ContentError as exc:
                errors.append(str(exc))
        raise ContentError(errors[0] if errors else f"{where}: bad value {value!r}")
    if origin is tuple:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            raise ContentError(f"{where}: expected a list, got {value!r}")
        (inner, _) = typing.get_args(hint)
        return tuple(_coerce(v, inner, where) for v in items)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ContentError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ContentError(f"{where}: expected a whole number, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ContentError(f"{where}: expected text, got {value!r}")
        return value.strip()
    if hint is bool:
        if not isinstance(value, bool):
            raise ContentError(f"{where}: expected true or false, got {value!r}")
        return value
    raise ContentError(f"{where}: unsupported field type {hint!r}")


def _build(cls: type[T], raw: Any, where: str) -> T:
    """Build a frozen dataclass from a TOML table, naming the file and entry on error."""
    if not isinstance(raw, dict):
        raise ContentError(f"{where}: expected a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(raw) - set(fields)
    if unknown:
        raise ContentError(f"{where}: unknown keys {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, fld in fields.items():
        if name not in raw:
            has_default = (
                fld.default is not dataclasses.MISSING
                or fld.default_factory is not dataclasses.MISSING
            )
            if not has_default:
                raise ContentError(f"{where}: missing key {name!r}")
            continue
        values[name] = _coerce(raw[name], hints[name], f"{where}.{name}")
        if isinstance(values[name], str) and not values[name] and name not in ("note", "intro"):
            raise ContentError(f"{where}.{name}: must not be empty")
    return cls(**values)


def _entries(data: dict[str, Any], key: str, cls: type[T], file: str) -> tuple[T, ...]:
    raw = data.get(key)
    if not isinstance(raw, list) or not raw:
        raise ContentError(f"{file}: needs at least one [[{key}]] entry")
    out = []
    for index, item in enumerate(raw):
        label = item.get("id", index) if isinstance(item, dict) else index
        out.append(_build(cls, item, f"{file} [[{key}]] {label}"))
    return tuple(out)


def _check_sourced(item: Sourced, sources: Mapping[str, Source], where: str) -> None:
    if not item.source:
        raise ContentError(f"{where}: has no source")
    for source_id in item.source:
        if source_id not in sources:
            raise ContentError(f"{where}: unknown source {source_id!r} (add it to sources.toml)")
    if item.verification not in VERIFICATION_LEVELS:
        raise ContentError(
            f"{where}: verification {item.verification!r} is not shippable "
            f"(use one of {sorted(VERIFICATION_LEVELS)})"
        )


def _unique(ids: list[str], where: str) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise ContentError(f"{where}: duplicate id {item_id!r}")
        seen.add(item_id)


def load_texts(directory: Path) -> Texts:
    """Read every `texts/*.toml` into one flat key -> template mapping."""
    templates: dict[str, str] = {}
    text_dir = directory / "texts"
    files = sorted(text_dir.glob("*.toml"))
    if not files:
        raise ContentError("texts/: no text files")
    for path in files:
        data = _read(text_dir, path.name)

        def walk(prefix: str, node: dict[str, Any], file: str = path.name) -> None:
            for key, value in node.items():
                full = f"{prefix}.{key}" if prefix else key
                if isinstance(value, dict):
                    walk(full, value)
                elif isinstance(value, str):
                    if full in templates:
                        raise ContentError(f"texts/{file}: key {full!r} is defined twice")
                    try:
                        template_fields(value)
                    except ValueError as exc:
                        raise ContentError(f"texts/{file}: {full}: {exc}") from exc
                    templates[full] = value.strip("\n")
                else:
                    raise ContentError(f"texts/{file}: {full}: expected text")

        walk("", data)
    return Texts(templates)


def load_content(directory: Path = CONTENT_DIR) -> Content:
    """Read and validate every content file. Raise ContentError naming the file and entry."""
    texts = load_texts(directory)

    commands_data = _read(directory, "commands.toml")
    commands = _entries(commands_data, "command", Command, "commands.toml")

    sources_data = _read(directory, "sources.toml")
    source_list = _entries(sources_data, "source", Source, "sources.toml")
    _unique([s.id for s in source_list], "sources.toml")
    sources = {s.id: s for s in source_list}

    foods_data = _read(directory, "foods.toml")
    categories = _entries(foods_data, "category", Category, "foods.toml")
    foods = _entries(foods_data, "food", Food, "foods.toml")
    _unique([f.id for f in foods], "foods.toml")
    category_ids = {c.id for c in categories}
    for food in foods:
        where = f"foods.toml [[food]] {food.id}"
        _check_sourced(food, sources, where)
        if food.category not in category_ids:
            raise ContentError(f"{where}: unknown category {food.category!r}")
        if food.mg_per_serving <= 0 or food.mg_per_100g <= 0 or food.serving_g <= 0:
            raise ContentError(f"{where}: amounts must be positive")
        for source_id in food.per_100g_source:
            if source_id not in sources:
                raise ContentError(f"{where}: unknown per_100g_source {source_id!r}")
        if food.per_100g_verification and food.per_100g_verification not in VERIFICATION_LEVELS:
            raise ContentError(f"{where}: per_100g_verification is not shippable")
        if food.state not in FOOD_STATES:
            raise ContentError(f"{where}: state must be one of {sorted(FOOD_STATES)}")
        if (food.fdc_id is not None or food.ndb) and not food.per_100g_record:
            raise ContentError(f"{where}: a USDA record (fdc_id or ndb) needs per_100g_record")

    tips = _entries(_read(directory, "tips.toml"), "tip", Tip, "tips.toml")
    facts = _entries(_read(directory, "facts.toml"), "fact", Fact, "facts.toml")
    _unique([t.id for t in tips], "tips.toml")
    _unique([f.id for f in facts], "facts.toml")
    marked: list[tuple[str, Tip | Fact]] = [
        *((f"tips.toml [[tip]] {tip.id}", tip) for tip in tips),
        *((f"facts.toml [[fact]] {fact.id}", fact) for fact in facts),
    ]
    for where, entry in marked:
        _check_sourced(entry, sources, where)
        if entry.kind not in ITEM_KINDS:
            raise ContentError(f"{where}: kind must be one of {sorted(ITEM_KINDS)}")

    symptoms_data = _read(directory, "symptoms.toml")
    sections = []
    for index, raw in enumerate(symptoms_data.get("section", [])):
        where = f"symptoms.toml [[section]] {raw.get('id', index)}"
        items = tuple(
            _build(SymptomItem, item, f"{where} item {i}")
            for i, item in enumerate(raw.pop("item", []))
        )
        if not items:
            raise ContentError(f"{where}: needs at least one [[section.item]]")
        for i, item in enumerate(items):
            _check_sourced(item, sources, f"{where} item {i}")
        sections.append(_build(SymptomSection, {**raw, "items": []}, where))
        sections[-1] = dataclasses.replace(sections[-1], items=items)
    if not sections:
        raise ContentError("symptoms.toml: needs at least one [[section]]")

    supplements_data = _read(directory, "supplements.toml")
    forms = _entries(supplements_data, "form", SupplementForm, "supplements.toml")
    limits = _entries(supplements_data, "upper_limit", UpperLimit, "supplements.toml")
    covers = _build(SymptomItem, supplements_data.get("ul_covers"), "supplements.toml [ul_covers]")
    for form in forms:
        _check_sourced(form, sources, f"supplements.toml [[form]] {form.id}")
    for i, limit in enumerate(limits):
        _check_sourced(limit, sources, f"supplements.toml [[upper_limit]] {i}")
    _check_sourced(covers, sources, "supplements.toml [ul_covers]")
    supplements = Supplements(forms=forms, upper_limits=limits, ul_covers=covers)

    interactions_data = _read(directory, "interactions.toml")
    groups = _entries(interactions_data, "group", InteractionGroup, "interactions.toml")
    interactions = _entries(interactions_data, "interaction", Interaction, "interactions.toml")
    _unique([g.id for g in groups], "interactions.toml [[group]]")
    _unique([i.id for i in interactions], "interactions.toml [[interaction]]")
    group_ids = {g.id for g in groups}
    aliases: dict[str, str] = {}
    for inter in interactions:
        where = f"interactions.toml [[interaction]] {inter.id}"
        _check_sourced(inter, sources, where)
        if inter.group not in group_ids:
            raise ContentError(f"{where}: unknown group {inter.group!r}")
        for alias in inter.aliases:
            if alias != alias.lower().strip() or not alias:
                raise ContentError(f"{where}: alias {alias!r} must be lower case")
            if aliases.setdefault(alias, inter.id) != inter.id:
                raise ContentError(f"{where}: alias {alias!r} is also {aliases[alias]!r}'s")
    for group in groups:
        if not any(i.group == group.id for i in interactions):
            raise ContentError(f"interactions.toml [[group]] {group.id}: has no medicine")

    rda = _entries(_read(directory, "rda.toml"), "row", RdaRow, "rda.toml")
    for row in rda:
        _check_sourced(row, sources, f"rda.toml [[row]] {row.label}")

    faq = _entries(_read(directory, "faq.toml"), "question", FaqItem, "faq.toml")
    _unique([q.id for q in faq], "faq.toml")
    for q in faq:
        _check_sourced(q, sources, f"faq.toml [[question]] {q.id}")

    return Content(
        texts=texts,
        commands=commands,
        sources=sources,
        categories=categories,
        foods=foods,
        tips=tips,
        facts=facts,
        symptoms=tuple(sections),
        supplements=supplements,
        interactions=interactions,
        interaction_groups=groups,
        rda=rda,
        faq=faq,
        cities=_cities(directory / "cities.toml"),
    )


def _cities(path: Path) -> Mapping[str, str]:
    """Read the city index; a bad entry stops start-up like any other content error."""
    try:
        return read_cities(path)
    except (OSError, tomllib.TOMLDecodeError, ValueError) as exc:
        raise ContentError(f"{path.name}: {exc}") from exc


def normalize_place(text: str) -> str:
    """Normalise a place name for matching: no accents, case, punctuation or extra spaces.

    "São Paulo" -> "sao paulo", "New-York" -> "new york", "St. John's" -> "st johns",
    "Europe/Berlin" -> "europe berlin".
    """
    decomposed = unicodedata.normalize("NFKD", text)
    unmarked = "".join(char for char in decomposed if not unicodedata.combining(char))
    lowered = re.sub(r"['’`]", "", unmarked.casefold())
    return " ".join(re.sub(r"[\W_]+", " ", lowered).split())


def read_cities(path: Path) -> Mapping[str, str]:
    """Read a cities file: a `[cities]` table of city name -> IANA zone.

    Args:
        path: The TOML file.

    Returns:
        Normalised city name -> zone name.

    Raises:
        ValueError: If the file is malformed, names a zone that does not exist, or two names
            normalise to the same key with different zones.
    """
    with path.open("rb") as handle:
        data: dict[str, Any] = tomllib.load(handle)
    table = data.get("cities")
    if not isinstance(table, dict):
        raise ValueError(f"{path.name}: missing [cities] table")
    known = available_timezones()
    cities: dict[str, str] = {}
    for name, zone in table.items():
        key = normalize_place(name)
        if not key or not isinstance(zone, str) or zone not in known:
            raise ValueError(f"{path.name}: bad entry {name!r} = {zone!r}")
        if cities.setdefault(key, zone) != zone:
            raise ValueError(f"{path.name}: {name!r} clashes with another spelling")
    return MappingProxyType(cities)
