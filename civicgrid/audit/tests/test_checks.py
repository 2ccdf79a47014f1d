from django.test import SimpleTestCase, override_settings

from civicgrid.audit.apps import MIDDLEWARE, check_middleware


class MiddlewareCheckTests(SimpleTestCase):
    @override_settings(MIDDLEWARE=["django.contrib.auth.middleware.AuthenticationMiddleware"])
    def test_it_warns_when_the_middleware_is_missing(self):
        self.assertEqual([w.id for w in check_middleware(None)], ["audit.W001"])

    @override_settings(MIDDLEWARE=["django.contrib.auth.middleware.AuthenticationMiddleware", MIDDLEWARE])
    def test_it_is_quiet_when_the_middleware_is_installed(self):
        self.assertEqual(check_middleware(None), [])
