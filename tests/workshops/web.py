"""A learner or an instructor driving a live server over HTTP, as a browser does (cookies, CSRF)."""
import re

import httpx


class Browser:
    def __init__(self, base):
        self.base = base
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=30)

    def post(self, path, data):
        if "csrftoken" not in self.http.cookies:
            self.http.get("/join/")
        return self.http.post(path, data={**data, "csrfmiddlewaretoken": self.http.cookies["csrftoken"]},
                              headers={"Origin": self.base, "Referer": self.base + path})

    def join(self, code, name):
        response = self.post("/join/", {"code": code, "display_name": name})
        assert response.status_code == 302, response.text[:500]
        return int(re.search(r"/workshops/(\d+)/", response.headers["location"]).group(1))

    def start(self, workshop_id, slug):
        response = self.post(f"/workshops/{workshop_id}/labs/{slug}/start/", {})
        assert response.status_code == 302, response.text[:500]
        run_path = response.headers["location"]
        return run_path, self.credentials(self.http.get(run_path).text)

    @staticmethod
    def credentials(page):
        """{principal: (access key id, secret)} from a lab run page's data- attributes."""
        found = {}
        for row in re.finditer(r'<tr[^>]*data-principal="([^"]+)".*?</tr>', page, re.S):
            key = re.search(r"data-access-key-id[^>]*>([^<]+)<", row.group(0)).group(1)
            secret = re.search(r"data-secret-access-key[^>]*>([^<]+)<", row.group(0)).group(1)
            found[row.group(1)] = (key.strip(), secret.strip())
        return found

    def login(self, username, password):
        response = self.post("/login/", {"username": username, "password": password})
        assert response.status_code == 302, response.text[:500]

    def cookie_header(self):
        return "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())
