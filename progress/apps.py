from django.apps import AppConfig


class ProgressConfig(AppConfig):
    name = "progress"

    def ready(self) -> None:
        # The lesson page (lessons/, a layer below) shows a reader's progress through this.
        from lessons.reading import ReadingProgress, register_reading_progress
        from progress.menu import exercise_marks, quiz_marks
        from progress.services import read_lesson_ids

        register_reading_progress(
            ReadingProgress(
                read_lesson_ids=read_lesson_ids,
                control_template="progress/read_status.html",
                exercise_marks=exercise_marks,
                quiz_marks=quiz_marks,
            )
        )
