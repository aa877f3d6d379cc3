"""The model card questionnaire: Hugging Face metadata plus Mitchell et al.'s sections a person must write.

Sections follow "Model Cards for Model Reporting" (Mitchell et al., FAT* 2019, §4.1-4.9); keys of
``[metadata]`` are Hugging Face model card metadata (hub-docs ``modelcard.md``); ``[environment]``
fills ``co2_eq_emissions`` (hub-docs ``docs/hub/model-cards-co2.md``).
"""

from __future__ import annotations

from ethos.reports.card._questionnaire import Question, Questionnaire, Section

__all__ = ["CARD_QUESTIONS"]

CARD_QUESTIONS = Questionnaire(
    "model card questions",
    (
        Section(
            "metadata",
            "Metadata",
            (
                Question("model_name", "Under which name is the model published (model-index name)?"),
                Question("license", "Which licence (a Hub licence id such as apache-2.0, or other)?"),
                Question("language", "Which languages does the model handle (ISO 639-1 codes)?", "list"),
                Question("tags", "Extra tags for the Hub?", "list"),
                Question("base_model", "Which model was this one fine-tuned or derived from (Hub id)?", "list"),
                Question("library_name", "Which library loads it (transformers, llama.cpp ...)?"),
                Question("pipeline_tag", "Which task does it do (text-generation, fill-mask ...)?"),
                Question("datasets", "Which data sets was it trained on (Hub ids)?", "list"),
                Question("results_url", "Where are these evaluation results published (a URL)?"),
            ),
        ),
        Section(
            "model_details",
            "Model details",
            (
                Question("developers", "Who developed the model (person or organisation)?"),
                Question("description", "What is the model, in two or three sentences?"),
                Question("version", "Which version of the model is this, and what changed from the last?"),
                Question("model_type", "What type of model is it (architecture, size, training algorithm)?"),
                Question("training", "How was it trained (parameters, fairness constraints, other methods)?"),
                Question("paper", "Which paper or resource describes it?"),
                Question("citation", "How should it be cited?"),
                Question("contact", "Where do questions or comments about the model go?"),
            ),
        ),
        Section(
            "intended_use",
            "Intended use",
            (
                Question("primary_uses", "What is the model intended for?"),
                Question("primary_users", "Who are the intended users?"),
                Question("out_of_scope", "Which uses are out of scope or should be avoided?"),
            ),
        ),
        Section(
            "factors",
            "Factors",
            (
                Question("relevant", "Which groups, instruments or environments could change how the model behaves?"),
                Question("evaluation", "Which of them were evaluated, and why those?"),
            ),
        ),
        Section(
            "metrics",
            "Metrics",
            (
                Question("rationale", "Why were these metrics chosen for this model's use?"),
                Question("thresholds", "Which decision thresholds are used in deployment, and why?"),
            ),
        ),
        Section(
            "evaluation_data",
            "Evaluation data",
            (
                Question("motivation", "Why were these evaluation data sets chosen?"),
                Question("preprocessing", "How were the evaluation data preprocessed, if at all?"),
            ),
        ),
        Section(
            "training_data",
            "Training data",
            (
                Question("description", "What data was the model trained on (link its datasheet)?"),
                Question("preprocessing", "How were the training data filtered, cleaned or de-identified?"),
            ),
        ),
        Section(
            "ethical_considerations",
            "Ethical considerations",
            (
                Question("sensitive_data", "Does the model use sensitive data (e.g. protected classes, health)?"),
                Question("risks", "Which risks and harms could its use cause, and to whom?"),
                Question("mitigations", "Which mitigations are in place?"),
            ),
        ),
        Section(
            "caveats",
            "Caveats and recommendations",
            (
                Question("limitations", "Which limitations are known that the measurements here do not show?"),
                Question("recommendations", "What do you recommend to people who use or deploy the model?"),
            ),
        ),
        Section(
            "environment",
            "Environmental impact",
            (
                Question("training_co2_g", "How many grams of CO2-eq did training emit, if known?", "number"),
                Question("training_co2_source", "Where does that training figure come from?"),
                Question("training_type", "Which training does that figure cover (pre-training, fine-tuning)?"),
                Question("geographical_location", "Where (region or country) did the computation run?"),
                Question("hardware_used", "On which hardware (e.g. 8 x A100 80GB)?"),
            ),
        ),
    ),
)
