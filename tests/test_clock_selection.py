"""Which forward-looking sentences reach an issue's watch list ("N Clocks Worth Watching").

The plan considers every unit of a story (its lead and its coverage), of the stories in the issue
and of those just below the cut; never a repeat, an off-field story or forum chatter; at most five
clocks, one a story, none the same as another or as a clock already running. The sentences are
ours, in the shape of AI digests and lab posts of May 2026.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np

from lll.draft import find_clocks
from lll.stories.model import Story
from lll.stories.units import ItemView, StoryUnit
from lll.write.offline import OfflineWriter
from lll.write.plan import WATCH_BELOW_CUT, DueClock, Plan, PlanSettings, plan_issue

DAY = "2026-05-19"
PUBLISHED = datetime(2026, 5, 19, 8, 0, tzinfo=UTC)
FILLER = "The lab described the release in a long post. It reported 41.2% on the benchmark."


def item(n: int, text: str, *, source: str = "", kind: str = "feed", published: datetime = PUBLISHED) -> ItemView:
    name = source or f"Lab {n} Blog"
    url = f"https://lab{n}.example.com/post/{n}"
    return ItemView(id=n, source_id=n, source_name=name, source_weight=1.0, source_kind=kind, url=url,
                    canonical_url=url, title=f"Post {n}", text=text, raw="", published=published,
                    first_seen=published)


def unit(it: ItemView, *, kind: str = "story") -> StoryUnit:
    return StoryUnit(id=f"{it.id}:0", item=it, title=it.title, text=it.text, start=0, end=len(it.text), kind=kind)


def story(n: int, score: float, *units: StoryUnit, status: str = "new", relevance: float = 0.5) -> Story:
    vector = np.zeros(16, dtype=np.float32)
    vector[n % 16] = 1.0
    return Story(id=f"s-{n:03d}", units=units, status=status, score=score, reasons=(), vector=vector,
                 relevance=relevance)


def plain(n: int, score: float, **kw: object) -> Story:
    return story(n, score, unit(item(n, FILLER)), **kw)  # type: ignore[arg-type]


def dated(n: int, score: float, sentence: str, **kw: object) -> Story:
    return story(n, score, unit(item(n, f"{FILLER} {sentence}")), **kw)  # type: ignore[arg-type]


def plan(stories: Sequence[Story], **kw: object) -> Plan:
    return plan_issue(DAY, stories, find_clocks=lambda u: find_clocks(u, date.fromisoformat(DAY)),
                      **kw)  # type: ignore[arg-type]


def watched(p: Plan) -> list[tuple[str, str]]:
    return [(c.story.id, c.finding.due.isoformat()) for c in p.clocks]


def test_a_coverage_unit_of_a_story_gives_its_clock() -> None:
    lead = unit(item(1, FILLER))
    coverage = unit(item(2, "Free users must migrate before the old CLI stops serving requests on June 18, 2026."))
    p = plan([story(1, 9.0, lead, coverage), plain(3, 8.0), plain(4, 7.0), plain(5, 6.0)])
    assert watched(p) == [("s-001", "2026-06-18")]
    assert p.clocks[0].unit is coverage  # the entry quotes and cites the unit that says it


def test_a_story_just_below_the_cut_still_gives_its_clock_but_not_one_far_below() -> None:
    settings = PlanSettings(max_stories=3)
    stories = [plain(1, 9.0), plain(2, 8.0), plain(3, 7.0),
               dated(4, 6.0, "The tracker app is becoming the new health app on May 26."),
               *(plain(n, 5.0) for n in range(5, 13)),
               dated(13, 4.0, "Pricing moves to usage-based billing starting June 1.")]
    p = plan(stories, settings=settings)
    # s-013 ranks beyond the next 3 × max_stories below the cut
    assert WATCH_BELOW_CUT * settings.max_stories == 9
    assert watched(p) == [("s-004", "2026-05-26")]
    assert watched(plan(stories, settings=PlanSettings(max_stories=4)))[1] == ("s-013", "2026-06-01")


def test_repeats_off_field_stories_and_chatter_never_give_clocks() -> None:
    forum = item(6, "Anyone else waiting? The app is rolling out to everyone on June 2.", kind="forum")
    stories = [plain(1, 9.0), plain(2, 8.0), plain(3, 7.0),
               dated(4, 6.0, "The lab will open the beta on June 2.", status="repeat"),
               dated(5, 6.0, "The museum will open its new wing on June 2.", relevance=-0.9),
               story(6, 6.0, unit(forum, kind="community")),
               story(7, 5.5, unit(item(7, FILLER)), unit(item(8, "Users say the waitlist closes on June 4."),
                                                         kind="community")),
               dated(9, 3.0, "The lab will publish the weights on June 9.")]  # a story in the field
    p = plan(stories)
    assert watched(p) == [("s-009", "2026-06-09")]


def test_image_descriptions_are_never_quoted_as_clocks() -> None:
    sentence = ("The image is a screenshot of an announcement saying that, starting June 15, paid plans will "
                "change their limits.")
    p = plan([dated(1, 9.0, sentence), plain(2, 8.0), plain(3, 7.0)])
    assert p.clocks == ()


def test_at_most_five_clocks_one_a_story_and_no_two_alike() -> None:
    stories = [story(1, 9.0, unit(item(1, "The lab will open the beta on June 2. It will add teams on June 9."))),
               dated(2, 8.5, "The lab will open its Orca beta to everyone on June 2."),  # the same clock as s-001's
               *(dated(n, 8.0 - n / 10, f"Vendor {n} will ship its Model-{n} release on June {n + 10}.")
                 for n in range(3, 10))]
    p = plan(stories)
    assert len(p.clocks) == 5
    assert [s for s, _ in watched(p)] == ["s-001", "s-003", "s-004", "s-005", "s-006"]
    assert watched(p)[0] == ("s-001", "2026-06-02")


def test_a_running_clock_is_not_opened_again_and_is_relisted_as_its_date_nears() -> None:
    running = DueClock(id="c-1", opened_in="2026-05-13", opened_url="2026-05-13.md",
                       sentence="The lab will open the beta on May 24.", phrase="on May 24", due="2026-05-24",
                       item_id=40, item_url="https://lab40.example.com/post/40", source="Lab 40 Blog",
                       story_id="s-040", title="Beta")
    far = DueClock(id="c-2", opened_in="2026-05-13", opened_url="2026-05-13.md",
                   sentence="Vendor 9 will ship Model-9 on July 30.", phrase="on July 30", due="2026-07-30",
                   item_id=41, item_url="https://lab41.example.com/post/41", source="Lab 41 Blog",
                   story_id="s-041", title="Model-9")
    stories = [dated(1, 9.0, "The lab will open the beta on May 24."), plain(2, 8.0), plain(3, 7.0)]
    p = plan(stories, running=[running, far])
    assert p.clocks == ()  # the same clock is already running
    assert [c.id for c in p.running] == ["c-1"]  # due in five days: listed again; July 30 is not near
    # a reminder, not a refrain: the first issue within a week of May 24, then the first within its
    # last three days — not every issue in between (DAY is May 19)
    plain_days = [plain(2, 8.0), plain(3, 7.0)]
    assert [c.id for c in plan(plain_days, running=[running], previous_day="2026-05-16").running] == ["c-1"]
    assert plan(plain_days, running=[running], previous_day="2026-05-18").running == ()
    last_call = plan_issue("2026-05-21", plain_days, find_clocks=lambda _u: [], running=[running],
                           previous_day="2026-05-20")
    assert [c.id for c in last_call.running] == ["c-1"]


def test_a_clock_more_than_a_year_ahead_is_not_watched() -> None:
    far = unit(item(1, "The compute agreement is worth $1.25B a month through May 2029."))
    near = unit(item(2, "The compute agreement is worth $1.25B a month through March 2027."))
    assert find_clocks(far, date.fromisoformat(DAY)) == []
    assert [c.due.isoformat() for c in find_clocks(near, date.fromisoformat(DAY))] == ["2027-03-31"]


def test_a_thin_day_keeps_its_stories_in_the_sections() -> None:
    stories = [dated(1, 9.0, "The lab will open the beta on June 2."),
               dated(2, 8.0, "Vendor 2 will ship its release on June 4."),
               dated(3, 7.0, "Vendor 3 will ship its release on June 5.")]
    p = plan(stories)
    assert len(p.clocks) == 3
    assert sorted(s.id for section in p.sections for s in section) == ["s-001", "s-002", "s-003"]
    assert not p.short


def test_a_digest_sentence_is_watched_less_the_handles_it_ends_on() -> None:
    text = ("Health apps: the company is folding its tracker into a new health app on May 26, with a "
            "coach for every user @healthapp.")
    it = item(1, text, source="AI Digest", kind="newsletter")
    findings = find_clocks(unit(it), date.fromisoformat(DAY))
    assert [f.sentence for f in findings] == [
        "Health apps: the company is folding its tracker into a new health app on May 26, with a coach for every "
        "user."]
    finding = findings[0]
    assert it.text[finding.start:finding.end] + "." == finding.sentence  # the words kept; the period is ours
    assert finding.due == date(2026, 5, 26)


def test_a_date_inside_the_credits_is_not_watched() -> None:
    it = item(1, "The lab shipped the new model today, per @lab on June 2.", kind="newsletter")
    assert find_clocks(unit(it), date.fromisoformat(DAY)) == []


def test_a_clock_from_coverage_is_headed_by_that_unit_and_cites_it() -> None:
    lead = unit(item(1, FILLER))
    post = item(2, "Free users must migrate before the Orca CLI stops serving requests on June 18, 2026.")
    post = replace(post, title="Orca CLI Retirement")
    p = plan([story(1, 9.0, lead, unit(post)), plain(3, 8.0), plain(4, 7.0), plain(5, 6.0)])
    (entry,) = OfflineWriter("Large Language Letters", ("ai",), lambda day: f"{day}.md").write(p).clocks
    assert entry.heading == "Orca CLI Retirement"
    assert entry.item_id == 2 and entry.due == "2026-06-18"
    assert entry.paragraph.markdown.startswith(f"[Lab 2 Blog]({post.url}) noted: Free users must migrate")


def test_a_clock_is_headed_by_the_specific_thing_its_sentence_says_is_coming() -> None:
    from lll.write.offline import clock_heading
    assert clock_heading("Orion 3.5 Flash launch", "The Digest",
                         "The model is rolling out now, with Orion 3.5 Pro coming next month per Helios.") == \
        "Orion 3.5 Pro"
    assert clock_heading("Search and consumer surfaces become agentic across the whole line", "The Digest",
                         "Helios says Orion Omni is in Orion/Flow today and via APIs in coming weeks.") == "Orion Omni"
    assert clock_heading("Antigravity CLI", "Helios Blog", "Users must move before the old tool stops on June 18.") == \
        "Antigravity CLI"
