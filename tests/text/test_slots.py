from __future__ import annotations

import pytest

from memsvc.text.slots import (
    Slot,
    extract_slots,
    is_multi_valued,
    is_update_cue,
    supersedes,
)


def _pairs(text: str, role: str = "user") -> list[tuple[str, str]]:
    return [(s.name, s.value) for s in extract_slots(text, role)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # residence, with updates
        ("I live in Paris.", [("residence", "paris")]),
        ("i live in Paris", [("residence", "paris")]),
        ("I moved from Paris to Berlin last month.", [("residence", "berlin")]),
        ("I moved to Berlin from Paris.", [("residence", "berlin")]),
        ("I just relocated to New York City for work.", [("residence", "new york city")]),
        ("I've recently moved to Austin, Texas.", [("residence", "austin")]),
        ("We just moved to San Francisco, and I love it.", [("residence", "san francisco")]),
        ("My new apartment in Brooklyn is tiny.", [("residence", "brooklyn")]),
        ("I'm based in London these days.", [("residence", "london")]),
        ("I've been living in Toronto since 2019.", [("residence", "toronto")]),
        ("I used to live in Paris but now I live in Berlin.", [("residence", "berlin")]),
        ("I live in Paris. Actually, I just moved to Lyon.", [("residence", "lyon")]),
        # hometown
        ("I'm originally from Lyon, France.", [("hometown", "lyon")]),
        ("I grew up in Ohio.", [("hometown", "ohio")]),
        ("I'm from California.", [("hometown", "california")]),
        # employer and title
        ("I work at Google.", [("employer", "google")]),
        ("I work for a small tech startup.", [("employer", "small tech startup")]),
        ("I started a new job at Microsoft last week.", [("employer", "microsoft")]),
        ("I got a job at the local hospital.", [("employer", "local hospital")]),
        ("I just joined Stripe!", [("employer", "stripe")]),
        ("I've been working at Deloitte for three years.", [("employer", "deloitte")]),
        (
            "I work at Google as a software engineer.",
            [("employer", "google"), ("job_title", "software engineer")],
        ),
        (
            "I work as a data analyst at Acme Corp.",
            [("job_title", "data analyst"), ("employer", "acme corp")],
        ),
        (
            "I'm a nurse at Mercy Hospital.",
            [("job_title", "nurse"), ("employer", "mercy hospital")],
        ),
        ("I'm a senior data scientist.", [("job_title", "senior data scientist")]),
        ("I got promoted to senior manager!", [("job_title", "senior manager")]),
        # contact
        ("My phone number is (555) 123-4567.", [("phone", "5551234567")]),
        ("You can reach me at +44 20 7946 0958.", [("phone", "+442079460958")]),
        ("My email is John.Doe@Example.com.", [("email", "john.doe@example.com")]),
        (
            "My new address is 42 Elm Street, Springfield.",
            [("address", "42 elm street, springfield")],
        ),
        # relationships
        ("I'm married.", [("relationship_status", "married")]),
        ("We got engaged last weekend!", [("relationship_status", "engaged")]),
        ("I'm single again.", [("relationship_status", "single")]),
        (
            "My wife Sarah and I went hiking.",
            [("relationship_status", "married"), ("partner", "sarah")],
        ),
        (
            "My girlfriend's name is Mia.",
            [("relationship_status", "in a relationship"), ("partner", "mia")],
        ),
        # pets
        ("I've had my cat, Luna, for about 9 months now.", [("pet_cat", "luna")]),
        ("My dog's name is Max.", [("pet_dog", "max")]),
        ("I adopted a puppy named Biscuit.", [("pet_dog", "biscuit")]),
        # car, phone
        ("I drive a Toyota Camry.", [("car", "toyota camry")]),
        ("I just bought a new Tesla Model 3.", [("car", "tesla model 3")]),
        ("My new phone is an iPhone 14 Pro.", [("phone_model", "iphone 14 pro")]),
        # education
        ("I study at Stanford University.", [("school", "stanford university")]),
        ("I'm a student at MIT.", [("school", "mit")]),
        ("I graduated from Boston University in 2019.", [("alma_mater", "boston university")]),
        ("I'm majoring in computer science.", [("major", "computer science")]),
        # diet, allergy
        ("I'm vegetarian.", [("diet", "vegetarian")]),
        ("I went vegan last year.", [("diet", "vegan")]),
        ("I'm on a keto diet.", [("diet", "keto")]),
        ("I'm allergic to peanuts.", [("allergy", "peanuts")]),
        # favourites
        ("My favorite food is sushi.", [("favorite_food", "sushi")]),
        ('My favourite TV show is "The Office".', [("favorite_tv_show", "the office")]),
        ("Pizza is my favorite food.", [("favorite_food", "pizza")]),
        ("I think jazz is definitely my favorite genre.", [("favorite_genre", "jazz")]),
        (
            "My favorite outdoor activities are hiking and cycling.",
            [("favorite_outdoor_activity", "hiking")],
        ),
        # age
        ("I'm 32 years old.", [("age", "32")]),
        ("I just turned 32 on February 12th.", [("age", "32")]),
        ("I'm 28, and I love running.", [("age", "28")]),
        # routine
        ("I commute by bike.", [("commute_mode", "bike")]),
        ("I take the train to work.", [("commute_mode", "train")]),
        ("My commute is about 40 minutes each way.", [("commute_duration", "40 minutes")]),
        ("I go to the gym three times a week.", [("workout_frequency", "three times a week")]),
        ("I'm a member of Planet Fitness.", [("gym", "planet fitness")]),
        ("I've been learning Japanese for a year.", [("learning_language", "japanese")]),
        # misc
        ("Hi, my name is Emily. Nice to meet you.", [("name", "emily")]),
        ("I have two kids.", [("num_children", "2")]),
        ("I weigh 180 lbs.", [("weight", "180 lbs")]),
        ("My highest score so far is 124 points.", [("my_highest_score", "124 points")]),
        ("My rent is $1,500 a month.", [("my_rent", "$1500")]),
    ],
)
def test_extract(text: str, expected: list[tuple[str, str]]) -> None:
    assert _pairs(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I no longer live in Paris.",
        "I used to work at Google.",
        "I lived in Paris for five years.",
        "I worked at Amazon before grad school.",
        "I don't work at Amazon anymore.",
        "I'm not married.",
        "Do I live in Paris?",
        "Where do I work again?",
        "Am I allergic to peanuts",
        "If I moved to Berlin, I would be happy.",
        "I'm moving to Berlin next month.",
        "I'm thinking of moving to Denver.",
        "I wish I lived in Tokyo.",
        "Maybe I'm vegetarian at heart.",
        "Explain bitcoin like I'm 10.",
        "I'm 30 minutes away from the station.",
        "I live in a small apartment.",
        "I work at home on Fridays.",
        "I joined a book club called Page Turners.",
        "I switched to a Ford F-150 pickup truck model.",
        "I'm a big fan of jazz.",
        "It is my favorite thing.",
        "My favorite moment was when he scored.",
        "We're 5-2 this season.",
        "我住在北京。",
        "",
    ],
)
def test_nothing_extracted(text: str) -> None:
    assert extract_slots(text) == []


def test_only_user_statements_give_slots() -> None:
    text = "I live in Paris and I work at Google."
    assert _pairs(text, "user") == [("residence", "paris"), ("employer", "google")]
    assert extract_slots(text, "assistant") == []
    assert extract_slots(text, "system") == []


def test_span_and_text_point_into_the_input() -> None:
    text = "Hello! By the way, I’m based in London now."
    (slot,) = extract_slots(text)
    assert slot.text == text[slot.span[0] : slot.span[1]]
    assert slot.text.startswith("I’m based in London")
    assert slot == Slot("residence", "london", slot.span, slot.text)


def test_slot_is_frozen() -> None:
    slot = Slot("residence", "paris", (0, 5), "x")
    with pytest.raises(AttributeError):
        slot.value = "berlin"  # type: ignore[misc]


def test_supersede_rule() -> None:
    (old,) = extract_slots("I live in Paris.")
    (new,) = extract_slots("I moved from Paris to Berlin last month.")
    (same,) = extract_slots("I've been living in Paris for years.")
    assert supersedes(old, new)
    assert not supersedes(old, same)
    assert not supersedes(old, extract_slots("I work at Google.")[0])
    (dog1,) = extract_slots("My dog Max is great.")
    (dog2,) = extract_slots("My dog Buddy is great.")
    assert is_multi_valued(dog1.name) and not supersedes(dog1, dog2)
    assert not is_multi_valued("residence") and is_multi_valued("allergy")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I moved to Berlin.", True),
        ("I now work at Google.", True),
        ("I switched to a standing desk.", True),
        ("I no longer eat meat.", True),
        ("I don't play tennis anymore.", True),
        ("I recently started running.", True),
        ("My new phone arrived.", True),
        ("I changed my diet.", True),
        ("I live in Paris.", False),
        ("My cat likes tuna.", False),
        ("", False),
    ],
)
def test_is_update_cue(text: str, expected: bool) -> None:
    assert is_update_cue(text) is expected


def test_cue_gating_never_changes_the_result() -> None:
    from memsvc.text.slots import _extract

    texts = [
        "I live in Paris and I'm a nurse at Mercy Hospital.",
        "My wife Sarah and I just moved to Denver; I'm 32 years old.",
        "I'm a member of Planet Fitness and I go to the gym three times a week.",
        "Pizza is my favorite food, and my highest score so far is 124 points.",
    ]
    for text in texts:
        assert _extract(text, "user", gate=True) == _extract(text, "user", gate=False)


@pytest.mark.parametrize(
    ("phrase", "key"),
    [
        ("TV shows", "tv_show"),
        ("movies", "movie"),
        ("hobbies", "hobby"),
        ("glasses", "glass"),
        ("series", "series"),
        ("board-games", "board_game"),
        ("3D printers", "3d_printer"),
    ],
)
def test_attribute_keys_are_singular(phrase: str, key: str) -> None:
    from memsvc.text.slots import _attr_key

    assert _attr_key(phrase) == key
