"""The datasheet questionnaire: Gebru et al.'s seven sections (Datasheets for Datasets, CACM 2021).

The questions are shortened from the paper's; the measured answers (sizes, checksums, record
counts, personal data found, opt-out removals) are not asked here, because Ethos measures them.
"""

from __future__ import annotations

from ethos.reports.card import Question, Questionnaire, Section

__all__ = ["DATASHEET_QUESTIONS"]

_Q = Question

DATASHEET_QUESTIONS = Questionnaire(
    "datasheet questions",
    (
        Section(
            "dataset",
            "Dataset",
            (
                _Q("name", "What is the data set called?"),
                _Q("version", "Which version?"),
                _Q("language", "Which languages does it contain (ISO 639-1 codes)?", "list"),
            ),
        ),
        Section(
            "motivation",
            "Motivation",
            (
                _Q("purpose", "For what purpose was the data set created; which gap does it fill?"),
                _Q("creators", "Who created it, on behalf of which entity?"),
                _Q("funding", "Who funded its creation?"),
            ),
        ),
        Section(
            "composition",
            "Composition",
            (
                _Q("instances", "What do the instances represent (documents, people, conversations ...)?"),
                _Q("sampling", "Is it a sample of a larger set; if so, how was it sampled and is it representative?"),
                _Q("labels", "Is there a label or target with each instance?"),
                _Q("missing", "Is information missing from instances, and why?"),
                _Q("splits", "Are there recommended splits (training, validation, test)?"),
                _Q("noise", "Are there known errors, noise or redundancies?"),
                _Q("external", "Does it rely on external resources (websites, other data sets)?"),
                _Q("confidential", "Does it contain confidential data (privileged, non-public communications)?"),
                _Q("offensive", "Could any of it be offensive, insulting or threatening?"),
                _Q("subpopulations", "Does it identify subpopulations (by age, gender ...), and how?"),
                _Q("identifiable", "Can individuals be identified from it, directly or combined with other data?"),
                _Q("sensitive", "Does it contain special categories of data (health, religion, ethnicity ...)?"),
            ),
        ),
        Section(
            "collection",
            "Collection process",
            (
                _Q("acquisition", "How was the data acquired (observed, reported, derived, scraped)?"),
                _Q("mechanisms", "Which mechanisms or procedures collected it, and how were they validated?"),
                _Q("collectors", "Who took part in collecting it, and how were they paid?"),
                _Q("timeframe", "Over what time was it collected?"),
                _Q("ethical_review", "Was an ethical review carried out; with what outcome?"),
                _Q("notice", "Were the people concerned told about the collection?"),
                _Q("consent", "Did they consent; how can they revoke consent or object?"),
                _Q("impact_analysis", "Was a data protection impact assessment done; with what outcome?"),
            ),
        ),
        Section(
            "preprocessing",
            "Preprocessing, cleaning and labelling",
            (
                _Q("steps", "What preprocessing, cleaning or labelling was done (incl. PII redaction)?"),
                _Q("raw_data", "Was the raw data kept besides the processed data; where?"),
                _Q("software", "Is the software used for preprocessing available?"),
            ),
        ),
        Section(
            "uses",
            "Uses",
            (
                _Q("used_for", "What has the data set been used for already?"),
                _Q("other_uses", "What else could it be used for?"),
                _Q("risks", "Could its composition or collection harm people in future uses; how to avoid that?"),
                _Q("not_for", "For which tasks should it not be used?"),
            ),
        ),
        Section(
            "distribution",
            "Distribution",
            (
                _Q("source", "Where does the data come from (URLs, upstream data sets)?"),
                _Q("license", "Under which licence or terms of use is it distributed?"),
                _Q("distributed", "Will it be distributed to third parties; how and when?"),
                _Q("restrictions", "Have third parties imposed restrictions (licences, robots.txt, TDM opt-outs)?"),
            ),
        ),
        Section(
            "maintenance",
            "Maintenance",
            (
                _Q("maintainer", "Who maintains the data set?"),
                _Q("contact", "How can the maintainer be contacted (and erasure or objection requests sent)?"),
                _Q("updates", "Will it be updated (corrections, removals); how often and by whom?"),
                _Q("retention", "Are there limits on keeping data about people; are they enforced?"),
                _Q("older_versions", "Will older versions stay available?"),
            ),
        ),
    ),
)
