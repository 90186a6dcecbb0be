"""What a browser would post: the fields of a form in a rendered page."""
from html.parser import HTMLParser


class _Fields(HTMLParser):
    def __init__(self, within):
        super().__init__(convert_charrefs=True)
        self.within = within  # the id of the element whose fields count
        self.depth = 0  # > 0 while inside it
        self.fields = []
        self.textarea = None
        self.select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        void = tag in ("input", "br", "option", "img", "meta", "link")
        if self.depth:
            self.depth += not void
        elif a.get("id") == self.within:
            self.depth = 1  # the element itself may be the field (a textarea)
            if void:
                self.depth = 0
                self._field(tag, a)
                return
        else:
            return
        self._field(tag, a)

    def _field(self, tag, a):
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button"):
                self.fields.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea" and name:
            self.textarea = [name, ""]
        elif tag == "select" and name:
            self.select = [name, None, None]  # name, first option, selected option
        elif tag == "option" and self.select:
            if self.select[1] is None:
                self.select[1] = a.get("value", "")
            if "selected" in a:
                self.select[2] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "textarea" and self.textarea:
            name, text = self.textarea
            # The HTML parser keeps the newline browsers drop right after <textarea>.
            self.fields.append((name, text[1:] if text.startswith("\n") else text))
            self.textarea = None
        elif tag == "select" and self.select:
            name, first, selected = self.select
            if first is not None:  # a browser posts the first option when none is selected
                self.fields.append((name, selected if selected is not None else first))
            self.select = None
        if self.depth and tag not in ("input", "br", "option", "img", "meta", "link"):
            self.depth -= 1

    def handle_data(self, data):
        if self.textarea:
            self.textarea[1] += data


def fields(html, within):
    """{name: [values]} of the inputs, textareas and selects inside the element with id `within`."""
    parser = _Fields(within)
    parser.feed(html)
    found = {}
    for name, value in parser.fields:
        found.setdefault(name, []).append(value)
    return found
