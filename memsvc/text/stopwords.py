"""English stop words, and a wider list of words too generic to be keyphrases.

``STOPWORDS`` is what BM25 and keyword overlap drop: function words (articles, pronouns,
auxiliaries, prepositions, conjunctions, contractions) and negations. Negations are listed on
purpose: lexical retrieval over chat turns gains nothing from matching "not" or "no".

``FILLER`` adds conversational verbs, adverbs and nouns ("really", "think", "tips",
"suggestions") that delimit keyphrase candidates without carrying a topic. It is *not* used by
BM25, where a query like "tips for sleeping" still wants "tips" to match.
"""

from __future__ import annotations

_FUNCTION_WORDS = """
a an the this that these those there here
i me my mine myself we us our ours ourselves you your yours yourself yourselves
he him his himself she her hers herself it its itself they them their theirs themselves
what which who whom whose when where why how whatever whoever whichever
am is are was were be been being have has had having do does did doing done
will would shall should can could may might must ought
and but or nor so yet if then else than because as until while although though unless since
whether every per via within without upon onto toward towards among
of at by for with about against between into through during before after above below
to from up down in out on off over under again further once
all any both each few more most other some such no not only own same too very just
also even ever still already now
s t d ll m o re ve y
i'm i've i'd i'll you're you've you'd you'll he's she's it's we're we've we'd we'll
they're they've they'd they'll that's there's here's what's who's where's how's let's
isn't aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't won't wouldn't
shan't shouldn't can't cannot couldn't mustn't mightn't needn't
im ive id ill youre dont didnt doesnt isnt wasnt cant couldnt wont wouldnt shouldnt
yes yeah ok okay oh hey hi hello please thanks thank
"""

_FILLER = """
really actually basically definitely probably maybe perhaps quite pretty rather somewhat
totally absolutely certainly especially particularly usually sometimes often always never
lately recently currently finally anyway anyways though however also just much many lot lots
bit kind sort thing things stuff something anything everything nothing someone anyone
everyone way ways time times day days week weeks month months year years today tomorrow
yesterday tonight
think thinking thought know knowing knew want wanting wanted wanna need needed needing
like liked likes love loved loves prefer enjoy enjoyed get gets got getting make makes made
making go goes going went gone come came coming take took taking see saw seen look looking
looked seem seems seemed feel feeling felt try trying tried keep kept let lets say said
tell told ask asked give gave use used using find found help helps helped helping
wonder wondering wondered plan planning planned hope hoping hoped mean meant guess
remember remind recommend recommended recommendation recommendations suggest suggestion
suggestions tip tips idea ideas advice question questions info information example
sure great good nice cool awesome amazing interesting helpful glad happy excited fine
new old big little small able able well better best
one two first next last other another same different several various
ago together along around away back ahead instead else across overall anymore almost enough
explore adjust consider share wrap dig treat rid check add start started starting keep
include includes including provide provides provided offer offers offering allow allows
ensure create created involve involved seem able entering feel felt stay stayed
daily weekly nightly monthly yearly near behind inside outside beyond beneath despite except
twice once set active faster
quick quickly easy easier hard harder huge tiny whole full entire real true sure okay
probably eager curious sorry worried afraid ready busy free available possible important
specific certain similar particular general usual favorite favourite recent current
trying tried doing did done having went going getting gets put puts making makes seeing
talk talked talking heard hear hearing read reading thinking working
by-the-way btw etc
"""

STOPWORDS: frozenset[str] = frozenset(_FUNCTION_WORDS.split())
FILLER: frozenset[str] = frozenset(_FILLER.split()) | STOPWORDS
