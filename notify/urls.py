from django.urls import path

from notify import views

app_name = "notify"
urlpatterns = [
    path("rate/<str:token>/", views.rate, name="rate"),
    path("stop/<str:token>/", views.stop, name="stop"),
    path("follow-ups/<int:pk>/close/", views.close_follow_up, name="close_follow_up"),
]
