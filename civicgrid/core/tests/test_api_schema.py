from django.test import TestCase


class ApiSchemaTests(TestCase):
    def test_it_publishes_the_openapi_schema_with_every_endpoint(self):
        response = self.client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        self.assertEqual(response.status_code, 200)
        paths = response.json()["paths"]
        for path in ("/api/v1/calendar/deadline", "/api/v1/calendar/elapsed", "/api/v1/geo/locate"):
            self.assertIn(path, paths)

    def test_it_serves_the_api_docs_page_without_a_cdn(self):
        response = self.client.get("/api/docs/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "/static/drf_spectacular_sidecar/swagger-ui-dist/")
        self.assertNotContains(response, "cdn.jsdelivr.net")
