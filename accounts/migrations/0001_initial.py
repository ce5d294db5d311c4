# ApiToken moves here from the courses app. Its table, courses_apitoken, is kept: this
# migration only tells Django's state that the model is now accounts.ApiToken, and
# courses.0003 removes it from the courses app's state. On a new database courses.0002
# has already made the table.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('courses', '0002_apitoken_lessonprogress'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ApiToken',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100)),
                        ('prefix', models.CharField(db_index=True, help_text='Shown to tell tokens apart.', max_length=12)),
                        ('key_hash', models.CharField(max_length=64, unique=True)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('last_used', models.DateTimeField(blank=True, null=True)),
                        ('revoked_at', models.DateTimeField(blank=True, null=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'courses_apitoken',
                        'ordering': ['-created'],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
