from django import forms

from kmslab.console.forms import ClockForm
from kmslab.labs import catalog

from .cohort import NAME_MAX


def lab_choices():
    labs = sorted(catalog.load().values(), key=lambda lab: (catalog.LEVELS.index(lab.level), lab.title))
    return [(lab.slug, f"{lab.title} ({lab.level}, {lab.minutes} min)") for lab in labs]


class WorkshopForm(forms.Form):
    title = forms.CharField(max_length=100)
    labs = forms.MultipleChoiceField(choices=lab_choices, widget=forms.CheckboxSelectMultiple,
                                     help_text="Learners take them in the order listed (intro to expert), "
                                               "or in the order of the numbers you give them.")
    opens = forms.DateTimeField(required=False, help_text="UTC, e.g. 2026-12-03 09:00. Empty: now.",
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    closes = forms.DateTimeField(required=False, help_text="UTC. Empty: when you close it.",
                                 widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    max_learners = forms.IntegerField(label="Most learners", required=False, min_value=1, max_value=10000,
                                      help_text="Empty: no cap.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Beside each lab's box, where it comes in the workshop (empty: in the order listed).
        for slug, title in lab_choices():
            self.fields[f"position-{slug}"] = forms.IntegerField(
                required=False, min_value=1, max_value=99, label=f"Position of {title}",
                widget=forms.NumberInput(attrs={"class": "position", "placeholder": "#"}))

    def clean(self):
        data = super().clean()
        if data.get("opens") and data.get("closes") and data["closes"] <= data["opens"]:
            self.add_error("closes", "A workshop closes after it opens.")
        return data

    def lab_rows(self):
        """Each lab's box with its position field, for the template."""
        return [(box, self[f"position-{box.data['value']}"]) for box in self["labs"]]

    def ordered_labs(self):
        """The chosen labs: those given a position first, by position, then the others as listed."""
        chosen = self.cleaned_data["labs"]
        positions = {slug: self.cleaned_data.get(f"position-{slug}") for slug in chosen}
        return sorted(chosen, key=lambda slug: (positions[slug] is None, positions[slug] or 0, chosen.index(slug)))


class JoinForm(forms.Form):
    code = forms.CharField(label="Join code", max_length=32,
                           widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                                         "spellcheck": "false", "placeholder": "KMS-…"}))
    display_name = forms.CharField(label="Display name", max_length=NAME_MAX,
                                   help_text="How your instructor sees you. Other learners never see it.")


class AnnounceForm(forms.Form):
    message = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class LearnerClockForm(ClockForm):
    """An advance of the clock for everyone, or for one learner."""
    learner = forms.IntegerField(required=False, widget=forms.HiddenInput)


class StuckForm(forms.Form):
    stuck_minutes = forms.IntegerField(label="Stuck after (minutes without progress)", min_value=1, max_value=600)


class RetentionForm(forms.Form):
    retention_days = forms.IntegerField(label="Delete after closing (days)", min_value=0, max_value=3650)


class ClosesForm(forms.Form):
    closes = forms.DateTimeField(required=False, help_text="UTC. Empty: when you close it.",
                                 widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
