# LessonProgress moves here from the courses app. Its table, courses_lessonprogress, is kept:
# this migration only tells Django's state that the model is now progress.LessonProgress, and
# courses.0003 removes it from the courses app's state. On a new database courses.0002 has
# already made the table.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('courses', '0002_apitoken_lessonprogress'),
        ('lessons', '0002_search_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='LessonProgress',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('read_at', models.DateTimeField(auto_now_add=True)),
                        ('learner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lesson_progress', to=settings.AUTH_USER_MODEL)),
                        ('lesson', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='progress', to='lessons.lesson')),
                    ],
                    options={
                        'db_table': 'courses_lessonprogress',
                        'constraints': [models.UniqueConstraint(fields=('learner', 'lesson'), name='unique_lesson_progress')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
