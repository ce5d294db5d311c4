from django.apps import AppConfig


class ExercisesConfig(AppConfig):
    name = "exercises"

    def ready(self) -> None:
        # Course outlines (lessons/, a layer below) list each lesson's exercises through this.
        from exercises.outline import outline_exercises
        from lessons.navigation import register_outline_exercises

        register_outline_exercises(outline_exercises)
