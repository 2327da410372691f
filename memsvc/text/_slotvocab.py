"""Word lists for ``_slotrules``: organisation and job nouns, pet species, languages, car
brands, relationship words, diets. Regex alternations are plain strings, joined into the
patterns by ``_slotrules``."""

from __future__ import annotations

ORG_HEADS = (
    r"company|startup|start-up|firm|agency|hospital|clinic|school|university|college|bank"
    r"|bakery|restaurant|cafe|café|coffee\s+shop|store|shop|boutique|factory|warehouse|lab"
    r"|laboratory|nonprofit|non-profit|charity|organization|organisation|hotel|gym|studio"
    r"|library|museum|newspaper|magazine|publisher|consultancy|law\s+firm|tech\s+company"
    r"|marketing\s+agency|retailer|supermarket|grocery\s+store|airline|plant|office|department"
)
JOB_HEADS = (
    r"engineer|developer|programmer|scientist|analyst|teacher|professor|lecturer|nurse|doctor"
    r"|physician|surgeon|dentist|pharmacist|lawyer|attorney|paralegal|accountant|consultant"
    r"|manager|director|designer|architect|artist|writer|author|journalist|editor|chef|cook"
    r"|baker|waiter|waitress|bartender|barista|cashier|clerk|receptionist|secretary"
    r"|administrator|technician|mechanic|electrician|plumber|carpenter|driver|pilot"
    r"|firefighter|police\s+officer|officer|soldier|researcher|librarian|therapist"
    r"|psychologist|counselor|counsellor|social\s+worker|photographer|musician|actor|actress"
    r"|producer|marketer|specialist|coordinator|representative|salesperson|realtor|agent"
    r"|entrepreneur|founder|freelancer|intern|veterinarian|vet|paramedic|farmer|tutor|coach"
    r"|trainer|instructor|translator|interpreter|strategist|executive|ceo|cto|cfo|vp"
    r"|associate|assistant|supervisor|lead|banker|broker|economist|statistician|pharmacist"
    r"|optometrist|chiropractor|midwife|caregiver|housekeeper|landscaper|contractor|builder"
    r"|hairdresser|stylist|dietitian|nutritionist|physiotherapist|radiologist|data\s+scientist"
)
SPECIES = {
    "dog": "dog",
    "puppy": "dog",
    "pup": "dog",
    "cat": "cat",
    "kitten": "cat",
    "kitty": "cat",
    "rabbit": "rabbit",
    "bunny": "rabbit",
    "hamster": "hamster",
    "guinea pig": "guinea_pig",
    "parrot": "parrot",
    "bird": "bird",
    "parakeet": "bird",
    "budgie": "bird",
    "fish": "fish",
    "goldfish": "fish",
    "turtle": "turtle",
    "tortoise": "tortoise",
    "snake": "snake",
    "lizard": "lizard",
    "gecko": "gecko",
    "horse": "horse",
    "pony": "horse",
    "ferret": "ferret",
    "hedgehog": "hedgehog",
    "chinchilla": "chinchilla",
}
LANGS = (
    r"Spanish|French|German|Italian|Portuguese|Japanese|Chinese|Mandarin|Cantonese|Korean"
    r"|Russian|Arabic|Hindi|Dutch|Swedish|Norwegian|Danish|Finnish|Greek|Turkish|Polish"
    r"|Hebrew|Vietnamese|Thai|Indonesian|Swahili|Latin|Ukrainian|Czech|Tagalog|Urdu|Bengali"
    r"|Persian|Farsi|Irish|Welsh|ASL|American\s+Sign\s+Language|Sign\s+Language|English"
)
CAR_BRANDS = (
    r"Toyota|Honda|Ford|Chevrolet|Chevy|Tesla|BMW|Audi|Mercedes(?:-Benz)?|Volkswagen|VW|Subaru"
    r"|Nissan|Hyundai|Kia|Mazda|Jeep|Volvo|Lexus|Porsche|Dodge|Ram|GMC|Jaguar|Land\s+Rover"
    r"|Range\s+Rover|Mini|Fiat|Ferrari|Acura|Infiniti|Buick|Cadillac|Chrysler|Genesis|Lincoln"
    r"|Mitsubishi|Peugeot|Renault|Skoda|Rivian|Polestar|Prius|Corolla|Civic|Camry"
)
REL = {
    "single": "single",
    "married": "married",
    "engaged": "engaged",
    "divorced": "divorced",
    "widowed": "widowed",
    "separated": "separated",
    "in a relationship": "in a relationship",
    "dating someone": "in a relationship",
    "seeing someone": "in a relationship",
    "broke up": "single",
    "split up": "single",
    "wife": "married",
    "husband": "married",
    "spouse": "married",
    "partner": "in a relationship",
    "girlfriend": "in a relationship",
    "boyfriend": "in a relationship",
    "fiance": "engaged",
    "fiancé": "engaged",
    "fiancée": "engaged",
    "fiancee": "engaged",
}
DIETS = (
    r"vegetarian|vegan|pescatarian|pescetarian|flexitarian|gluten-free|dairy-free|keto"
    r"|paleo|lactose\s+intolerant|plant-based|kosher|halal"
)
NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        (
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        )
    )
}
# Commute phrasings → a mode of transport.
COMMUTE_MODES = {
    "bicycle": "bike",
    "cycle": "bike",
    "ride my bike": "bike",
    "foot": "walk",
    "drive": "car",
    "metro": "subway",
    "tube": "subway",
}

# Cheap gates: a slot rule runs on a sentence only if the lowercased sentence contains one of
# its name's cues (most sentences of a chat turn trigger no rule at all). A name missing here
# always runs; ``tests/text/test_slots.py`` checks that gating never changes the result.
_PARTNER_CUES = "wife|husband|partner|girlfriend|boyfriend|fianc|spouse"
_CUE_TEXT = {
    "residence": "live|living|reside|moved|relocated|based|apartment|place|house|home|flat|condo",
    "hometown": "from|grew|born|hometown",
    "employer": "work|start|began|got|accepted|joined|employ|company",
    "job_title": "work|start|began|promoted|title|job|role|position| a | an ",
    "phone": "phone|cell|mobile|reach|call|text",
    "email": "mail|reach|contact",
    "address": "address|live at",
    "relationship_status": "single|married|engaged|divorced|widowed|separated|relationship"
    "|dating|seeing|broke|split|" + _PARTNER_CUES,
    "partner": _PARTNER_CUES,
    "pet_{x}": "|".join(SPECIES),
    "car": "drive|car|bought|got|leased|purchased",
    "phone_model": "iphone|samsung|galaxy|pixel|oneplus|moto|xiaomi",
    "school": "study|attend|go to|student|freshman|sophomore|junior|senior|grad|phd|enrolled",
    "alma_mater": "graduated",
    "major": "major",
    "diet": "vegetarian|vegan|pescatarian|pescetarian|flexitarian|gluten|dairy|keto|paleo"
    "|lactose|plant-based|kosher|halal|diet",
    "allergy": "allergic",
    "favorite_{x}": "favorite|favourite",
    "age": "old|turned|i'm|i am|im ",
    "commute_mode": "commute|work|office",
    "commute_duration": "commute",
    "workout_frequency": "gym|work out|exercise|train|run|swim|yoga",
    "gym": "gym|member",
    "learning_language": "learning|studying|taking",
    "name": "name",
    "birthday": "birthday",
    "num_children": "kids|children",
    "weight": "weigh",
    "my_{x}": "salary|rent|budget|mortgage|credit|gpa|handicap|heart|best|score|record|weight"
    "|screen",
}
CUES: dict[str, tuple[str, ...]] = {name: tuple(c.split("|")) for name, c in _CUE_TEXT.items()}
