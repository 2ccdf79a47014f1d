"""The portal's public pages (civicgrid.portal.public); other apps link to these names."""

from django.urls import path

from civicgrid.portal import public

urlpatterns = [
    path("t/<str:token>/", public.track, name="track"),
    path("t/<str:token>/rate/", public.rate, name="rate"),
    path("t/<str:token>/photo/<int:pk>/", public.track_photo, name="track-photo"),
    path("track/", public.lookup, name="lookup"),
    path("c/<str:number>/", public.case_public, name="case"),
    path("cases/", public.cases, name="cases"),
    path("cases/geojson/", public.cases_geojson, name="cases-geojson"),
    path("figures/", public.figures, name="figures"),
    path("ranking/", public.ranking, name="ranking"),
]
