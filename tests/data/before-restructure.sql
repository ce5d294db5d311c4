-- A database made by main before the apps were restructured (commit 3d58fd6): migrated, a
-- small course imported, and rows in every table of the site: users and a group, an API
-- token, reading progress, an exercise, submissions sharing an archive, a draft. The
-- full-text index is created empty (its rows are rebuilt by rebuild_search_index).
BEGIN TRANSACTION;
CREATE TABLE "auth_group" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(150) NOT NULL UNIQUE);
INSERT INTO "auth_group" VALUES(1,'Instructors');
CREATE TABLE "auth_group_permissions" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "auth_group_permissions" VALUES(1,1,32);
INSERT INTO "auth_group_permissions" VALUES(2,1,41);
INSERT INTO "auth_group_permissions" VALUES(3,1,42);
INSERT INTO "auth_group_permissions" VALUES(4,1,43);
INSERT INTO "auth_group_permissions" VALUES(5,1,44);
INSERT INTO "auth_group_permissions" VALUES(6,1,46);
INSERT INTO "auth_group_permissions" VALUES(7,1,48);
INSERT INTO "auth_group_permissions" VALUES(8,1,50);
INSERT INTO "auth_group_permissions" VALUES(9,1,52);
INSERT INTO "auth_group_permissions" VALUES(10,1,25);
INSERT INTO "auth_group_permissions" VALUES(11,1,26);
INSERT INTO "auth_group_permissions" VALUES(12,1,28);
INSERT INTO "auth_group_permissions" VALUES(13,1,29);
INSERT INTO "auth_group_permissions" VALUES(14,1,30);
INSERT INTO "auth_group_permissions" VALUES(15,1,31);
CREATE TABLE "auth_permission" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "content_type_id" integer NOT NULL REFERENCES "django_content_type" ("id") DEFERRABLE INITIALLY DEFERRED, "codename" varchar(100) NOT NULL, "name" varchar(255) NOT NULL);
INSERT INTO "auth_permission" VALUES(1,1,'add_logentry','Can add log entry');
INSERT INTO "auth_permission" VALUES(2,1,'change_logentry','Can change log entry');
INSERT INTO "auth_permission" VALUES(3,1,'delete_logentry','Can delete log entry');
INSERT INTO "auth_permission" VALUES(4,1,'view_logentry','Can view log entry');
INSERT INTO "auth_permission" VALUES(5,2,'add_permission','Can add permission');
INSERT INTO "auth_permission" VALUES(6,2,'change_permission','Can change permission');
INSERT INTO "auth_permission" VALUES(7,2,'delete_permission','Can delete permission');
INSERT INTO "auth_permission" VALUES(8,2,'view_permission','Can view permission');
INSERT INTO "auth_permission" VALUES(9,3,'add_group','Can add group');
INSERT INTO "auth_permission" VALUES(10,3,'change_group','Can change group');
INSERT INTO "auth_permission" VALUES(11,3,'delete_group','Can delete group');
INSERT INTO "auth_permission" VALUES(12,3,'view_group','Can view group');
INSERT INTO "auth_permission" VALUES(13,4,'add_user','Can add user');
INSERT INTO "auth_permission" VALUES(14,4,'change_user','Can change user');
INSERT INTO "auth_permission" VALUES(15,4,'delete_user','Can delete user');
INSERT INTO "auth_permission" VALUES(16,4,'view_user','Can view user');
INSERT INTO "auth_permission" VALUES(17,5,'add_contenttype','Can add content type');
INSERT INTO "auth_permission" VALUES(18,5,'change_contenttype','Can change content type');
INSERT INTO "auth_permission" VALUES(19,5,'delete_contenttype','Can delete content type');
INSERT INTO "auth_permission" VALUES(20,5,'view_contenttype','Can view content type');
INSERT INTO "auth_permission" VALUES(21,6,'add_session','Can add session');
INSERT INTO "auth_permission" VALUES(22,6,'change_session','Can change session');
INSERT INTO "auth_permission" VALUES(23,6,'delete_session','Can delete session');
INSERT INTO "auth_permission" VALUES(24,6,'view_session','Can view session');
INSERT INTO "auth_permission" VALUES(25,7,'add_course','Can add course');
INSERT INTO "auth_permission" VALUES(26,7,'change_course','Can change course');
INSERT INTO "auth_permission" VALUES(27,7,'delete_course','Can delete course');
INSERT INTO "auth_permission" VALUES(28,7,'view_course','Can view course');
INSERT INTO "auth_permission" VALUES(29,8,'add_chapter','Can add chapter');
INSERT INTO "auth_permission" VALUES(30,8,'change_chapter','Can change chapter');
INSERT INTO "auth_permission" VALUES(31,8,'delete_chapter','Can delete chapter');
INSERT INTO "auth_permission" VALUES(32,8,'view_chapter','Can view chapter');
INSERT INTO "auth_permission" VALUES(33,9,'add_apitoken','Can add api token');
INSERT INTO "auth_permission" VALUES(34,9,'change_apitoken','Can change api token');
INSERT INTO "auth_permission" VALUES(35,9,'delete_apitoken','Can delete api token');
INSERT INTO "auth_permission" VALUES(36,9,'view_apitoken','Can view api token');
INSERT INTO "auth_permission" VALUES(37,10,'add_lessonprogress','Can add lesson progress');
INSERT INTO "auth_permission" VALUES(38,10,'change_lessonprogress','Can change lesson progress');
INSERT INTO "auth_permission" VALUES(39,10,'delete_lessonprogress','Can delete lesson progress');
INSERT INTO "auth_permission" VALUES(40,10,'view_lessonprogress','Can view lesson progress');
INSERT INTO "auth_permission" VALUES(41,11,'add_lesson','Can add lesson');
INSERT INTO "auth_permission" VALUES(42,11,'change_lesson','Can change lesson');
INSERT INTO "auth_permission" VALUES(43,11,'delete_lesson','Can delete lesson');
INSERT INTO "auth_permission" VALUES(44,11,'view_lesson','Can view lesson');
INSERT INTO "auth_permission" VALUES(45,12,'add_exercise','Can add exercise');
INSERT INTO "auth_permission" VALUES(46,12,'change_exercise','Can change exercise');
INSERT INTO "auth_permission" VALUES(47,12,'delete_exercise','Can delete exercise');
INSERT INTO "auth_permission" VALUES(48,12,'view_exercise','Can view exercise');
INSERT INTO "auth_permission" VALUES(49,13,'add_submission','Can add submission');
INSERT INTO "auth_permission" VALUES(50,13,'change_submission','Can change submission');
INSERT INTO "auth_permission" VALUES(51,13,'delete_submission','Can delete submission');
INSERT INTO "auth_permission" VALUES(52,13,'view_submission','Can view submission');
INSERT INTO "auth_permission" VALUES(53,14,'add_draft','Can add draft');
INSERT INTO "auth_permission" VALUES(54,14,'change_draft','Can change draft');
INSERT INTO "auth_permission" VALUES(55,14,'delete_draft','Can delete draft');
INSERT INTO "auth_permission" VALUES(56,14,'view_draft','Can view draft');
INSERT INTO "auth_permission" VALUES(57,15,'add_submissionarchive','Can add submission archive');
INSERT INTO "auth_permission" VALUES(58,15,'change_submissionarchive','Can change submission archive');
INSERT INTO "auth_permission" VALUES(59,15,'delete_submissionarchive','Can delete submission archive');
INSERT INTO "auth_permission" VALUES(60,15,'view_submissionarchive','Can view submission archive');
CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "first_name" varchar(150) NOT NULL);
INSERT INTO "auth_user" VALUES(1,'pbkdf2_sha256$1000000$4lhmIE69bUolrwfxmL2MXd$ATwDIL1NeOi8527DygThBsoj133SNBnHpHixmQmY2Bg=',NULL,0,'teacher','','',1,1,'2026-12-04 21:19:26.512911','');
INSERT INTO "auth_user" VALUES(2,'pbkdf2_sha256$1000000$CDVc6RwUIJ0pVOdSQNaH1I$4MioNTojTI6TeYjRcPuZJKRQFJkSDepvGpcINpik4n0=',NULL,0,'learner','','',0,1,'2026-12-04 21:19:26.755562','');
CREATE TABLE "auth_user_groups" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "auth_user_groups" VALUES(1,1,1);
CREATE TABLE "auth_user_user_permissions" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE "courses_apitoken" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(100) NOT NULL, "prefix" varchar(12) NOT NULL, "key_hash" varchar(64) NOT NULL UNIQUE, "created" datetime NOT NULL, "last_used" datetime NULL, "revoked_at" datetime NULL, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "courses_apitoken" VALUES(1,'laptop','wfc_1fcMNb1L','81e2179be2442f18c808de04c50bd72d427ca98355be3eb917a72a56ecf91a7e','2026-12-04 21:19:26.984389',NULL,NULL,2);
CREATE TABLE "courses_chapter" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "slug" varchar(50) NOT NULL, "title" varchar(200) NOT NULL, "summary" text NOT NULL, "intro" text NOT NULL, "intro_html" text NOT NULL, "order" integer unsigned NOT NULL CHECK ("order" >= 0), "course_id" bigint NOT NULL REFERENCES "courses_course" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "unique_chapter_slug" UNIQUE ("course_id", "slug"));
INSERT INTO "courses_chapter" VALUES(1,'http','HTTP','Requests, responses and status codes.','Every web framework speaks HTTP. This chapter shows what it looks like on the wire.','<p>Every web framework speaks HTTP. This chapter shows what it looks like on the wire.</p>',1,1);
INSERT INTO "courses_chapter" VALUES(2,'flask','Flask','A first web application in Flask.','Flask keeps its core small and lets you choose the rest.','<p>Flask keeps its core small and lets you choose the rest.</p>',2,1);
CREATE TABLE "courses_course" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "slug" varchar(50) NOT NULL UNIQUE, "title" varchar(200) NOT NULL, "summary" text NOT NULL, "description" text NOT NULL, "description_html" text NOT NULL, "order" integer unsigned NOT NULL CHECK ("order" >= 0), "updated" datetime NOT NULL);
INSERT INTO "courses_course" VALUES(1,'web-basics','Web Basics','How a request reaches Python code, and a first Flask app.','This small course follows an HTTP request from the browser to your code.

It ends with a first Flask application.','<p>This small course follows an HTTP request from the browser to your code.</p>
<p>It ends with a first Flask application.</p>',1,'2026-12-04 21:19:25.942881');
CREATE TABLE "courses_lessonprogress" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "read_at" datetime NOT NULL, "learner_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "lesson_id" bigint NOT NULL REFERENCES "lessons_lesson" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "unique_lesson_progress" UNIQUE ("learner_id", "lesson_id"));
INSERT INTO "courses_lessonprogress" VALUES(1,'2026-12-04 21:19:26.986110',2,1);
CREATE TABLE "django_admin_log" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "object_id" text NULL, "object_repr" varchar(200) NOT NULL, "action_flag" smallint unsigned NOT NULL CHECK ("action_flag" >= 0), "change_message" text NOT NULL, "content_type_id" integer NULL REFERENCES "django_content_type" ("id") DEFERRABLE INITIALLY DEFERRED, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "action_time" datetime NOT NULL);
CREATE TABLE "django_content_type" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app_label" varchar(100) NOT NULL, "model" varchar(100) NOT NULL);
INSERT INTO "django_content_type" VALUES(1,'admin','logentry');
INSERT INTO "django_content_type" VALUES(2,'auth','permission');
INSERT INTO "django_content_type" VALUES(3,'auth','group');
INSERT INTO "django_content_type" VALUES(4,'auth','user');
INSERT INTO "django_content_type" VALUES(5,'contenttypes','contenttype');
INSERT INTO "django_content_type" VALUES(6,'sessions','session');
INSERT INTO "django_content_type" VALUES(7,'courses','course');
INSERT INTO "django_content_type" VALUES(8,'courses','chapter');
INSERT INTO "django_content_type" VALUES(9,'courses','apitoken');
INSERT INTO "django_content_type" VALUES(10,'courses','lessonprogress');
INSERT INTO "django_content_type" VALUES(11,'lessons','lesson');
INSERT INTO "django_content_type" VALUES(12,'lessons','exercise');
INSERT INTO "django_content_type" VALUES(13,'sandbox','submission');
INSERT INTO "django_content_type" VALUES(14,'sandbox','draft');
INSERT INTO "django_content_type" VALUES(15,'sandbox','submissionarchive');
CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);
INSERT INTO "django_migrations" VALUES(1,'contenttypes','0001_initial','2026-12-04 21:19:24.931680');
INSERT INTO "django_migrations" VALUES(2,'auth','0001_initial','2026-12-04 21:19:24.942123');
INSERT INTO "django_migrations" VALUES(3,'admin','0001_initial','2026-12-04 21:19:24.948177');
INSERT INTO "django_migrations" VALUES(4,'admin','0002_logentry_remove_auto_add','2026-12-04 21:19:24.954363');
INSERT INTO "django_migrations" VALUES(5,'admin','0003_logentry_add_action_flag_choices','2026-12-04 21:19:24.958412');
INSERT INTO "django_migrations" VALUES(6,'contenttypes','0002_remove_content_type_name','2026-12-04 21:19:24.968336');
INSERT INTO "django_migrations" VALUES(7,'auth','0002_alter_permission_name_max_length','2026-12-04 21:19:24.974210');
INSERT INTO "django_migrations" VALUES(8,'auth','0003_alter_user_email_max_length','2026-12-04 21:19:24.979873');
INSERT INTO "django_migrations" VALUES(9,'auth','0004_alter_user_username_opts','2026-12-04 21:19:24.984958');
INSERT INTO "django_migrations" VALUES(10,'auth','0005_alter_user_last_login_null','2026-12-04 21:19:25.029661');
INSERT INTO "django_migrations" VALUES(11,'auth','0006_require_contenttypes_0002','2026-12-04 21:19:25.030601');
INSERT INTO "django_migrations" VALUES(12,'auth','0007_alter_validators_add_error_messages','2026-12-04 21:19:25.034396');
INSERT INTO "django_migrations" VALUES(13,'auth','0008_alter_user_username_max_length','2026-12-04 21:19:25.039449');
INSERT INTO "django_migrations" VALUES(14,'auth','0009_alter_user_last_name_max_length','2026-12-04 21:19:25.044556');
INSERT INTO "django_migrations" VALUES(15,'auth','0010_alter_group_name_max_length','2026-12-04 21:19:25.049604');
INSERT INTO "django_migrations" VALUES(16,'auth','0011_update_proxy_permissions','2026-12-04 21:19:25.053304');
INSERT INTO "django_migrations" VALUES(17,'auth','0012_alter_user_first_name_max_length','2026-12-04 21:19:25.058438');
INSERT INTO "django_migrations" VALUES(18,'courses','0001_initial','2026-12-04 21:19:25.062309');
INSERT INTO "django_migrations" VALUES(19,'lessons','0001_initial','2026-12-04 21:19:25.074652');
INSERT INTO "django_migrations" VALUES(20,'lessons','0002_search_index','2026-12-04 21:19:25.081189');
INSERT INTO "django_migrations" VALUES(21,'courses','0002_apitoken_lessonprogress','2026-12-04 21:19:25.096479');
INSERT INTO "django_migrations" VALUES(22,'sandbox','0001_initial','2026-12-04 21:19:25.106505');
INSERT INTO "django_migrations" VALUES(23,'sandbox','0002_draft','2026-12-04 21:19:25.117934');
INSERT INTO "django_migrations" VALUES(24,'sandbox','0003_submissionarchive','2026-12-04 21:19:25.164662');
INSERT INTO "django_migrations" VALUES(25,'sessions','0001_initial','2026-12-04 21:19:25.170681');
CREATE TABLE "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" datetime NOT NULL);
CREATE TABLE "lessons_exercise" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "slug" varchar(50) NOT NULL UNIQUE, "title" varchar(200) NOT NULL, "summary" text NOT NULL, "order" integer unsigned NOT NULL CHECK ("order" >= 0), "frameworks" text NOT NULL CHECK ((JSON_VALID("frameworks") OR "frameworks" IS NULL)), "points" integer unsigned NOT NULL CHECK ("points" >= 0), "limits" text NOT NULL CHECK ((JSON_VALID("limits") OR "limits" IS NULL)), "instructions" text NOT NULL, "instructions_html" text NOT NULL, "files" text NOT NULL CHECK ((JSON_VALID("files") OR "files" IS NULL)), "status" varchar(10) NOT NULL, "updated" datetime NOT NULL, "course_id" bigint NOT NULL REFERENCES "courses_course" ("id") DEFERRABLE INITIALLY DEFERRED, "lesson_id" bigint NULL REFERENCES "lessons_lesson" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "lessons_exercise" VALUES(1,'hello-route','Say hello','Answer GET / with a greeting.',1,'["flask"]',10,'{}','# Say hello

Make `GET /` answer `Hello` with status 200.
','<h1 id="say-hello">Say hello<a class="headerlink" href="#say-hello" title="Link to this section" rel="noopener noreferrer">#</a></h1>
<p>Make <code>GET /</code> answer <code>Hello</code> with status 200.</p>','{"solution/flask/app.py": "from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get(\"/\")\ndef home():\n    return \"Hello\"\n", "starter/flask/app.py": "from flask import Flask\n\napp = Flask(__name__)\n", "tests/test_x.py": "def test_home_says_hello(client):\n    response = client.get(\"/\")\n    assert response.status_code == 200\n    assert response.text == \"Hello\"\n"}','published','2026-12-04 21:19:25.941976',1,3);
CREATE TABLE "lessons_lesson" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "slug" varchar(50) NOT NULL, "title" varchar(200) NOT NULL, "summary" text NOT NULL, "order" integer unsigned NOT NULL CHECK ("order" >= 0), "body" text NOT NULL, "body_html" text NOT NULL, "toc_html" text NOT NULL, "status" varchar(10) NOT NULL, "created" datetime NOT NULL, "updated" datetime NOT NULL, "chapter_id" bigint NOT NULL REFERENCES "courses_chapter" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "unique_lesson_slug" UNIQUE ("chapter_id", "slug"));
INSERT INTO "lessons_lesson" VALUES(1,'requests','Requests and responses','What a browser sends and what a server answers.',1,'## A request

A request is a method, a path, headers and an optional body:

```http
GET /hello HTTP/1.1
Host: example.org
```

!!! note "Plain text"
    HTTP/1.1 messages are plain text, so you can read them in a terminal.

## A response

The server answers with a status line, headers and a body.','<h2 id="a-request">A request<a class="headerlink" href="#a-request" title="Link to this section" rel="noopener noreferrer">#</a></h2>
<p>A request is a method, a path, headers and an optional body:</p>
<div class="highlight"><pre><span></span><code><span class="nf">GET</span> <span class="nn">/hello</span> <span class="kr">HTTP</span><span class="o">/</span><span class="m">1.1</span>
<span class="na">Host</span><span class="o">:</span> <span class="l">example.org</span>
</code></pre></div>
<div class="admonition note">
<p class="admonition-title">Plain text</p>
<p>HTTP/1.1 messages are plain text, so you can read them in a terminal.</p>
</div>
<h2 id="a-response">A response<a class="headerlink" href="#a-response" title="Link to this section" rel="noopener noreferrer">#</a></h2>
<p>The server answers with a status line, headers and a body.</p>','<div class="toc">
<ul>
<li><a href="#a-request" rel="noopener noreferrer">A request</a></li>
<li><a href="#a-response" rel="noopener noreferrer">A response</a></li>
</ul>
</div>
','published','2026-12-04 21:19:25.900825','2026-12-04 21:19:25.900855',1);
INSERT INTO "lessons_lesson" VALUES(2,'status-codes','Status codes','The three-digit numbers at the start of every response.',2,'## Families

| Range | Meaning      |
|-------|--------------|
| 2xx   | success      |
| 4xx   | client error |
| 5xx   | server error |

!!! warning
    A 200 with an error message in the body confuses clients. Use the right code.','<h2 id="families">Families<a class="headerlink" href="#families" title="Link to this section" rel="noopener noreferrer">#</a></h2>
<table>
<thead>
<tr>
<th>Range</th>
<th>Meaning</th>
</tr>
</thead>
<tbody>
<tr>
<td>2xx</td>
<td>success</td>
</tr>
<tr>
<td>4xx</td>
<td>client error</td>
</tr>
<tr>
<td>5xx</td>
<td>server error</td>
</tr>
</tbody>
</table>
<div class="admonition warning">
<p class="admonition-title">Warning</p>
<p>A 200 with an error message in the body confuses clients. Use the right code.</p>
</div>','<div class="toc">
<ul>
<li><a href="#families" rel="noopener noreferrer">Families</a></li>
</ul>
</div>
','draft','2026-12-04 21:19:25.905537','2026-12-04 21:19:25.905566',1);
INSERT INTO "lessons_lesson" VALUES(3,'first-app','A first Flask app','Five lines that answer HTTP requests.',1,'## The application

=== "Flask"

    ```python
    from flask import Flask

    app = Flask(__name__)


    @app.get("/")
    def home():
        return "Hello"
    ```

=== "Run it"

    ```console
    $ flask --app app run
    ```

!!! tip
    `flask --app app run --debug` reloads the server when you save a file.','<h2 id="the-application">The application<a class="headerlink" href="#the-application" title="Link to this section" rel="noopener noreferrer">#</a></h2>
<div class="tabbed-set tabbed-alternate"><input checked="checked" id="__tabbed_eb729c2a_1_1" name="__tabbed_eb729c2a_1" type="radio"><input id="__tabbed_eb729c2a_1_2" name="__tabbed_eb729c2a_1" type="radio"><div class="tabbed-labels"><label for="__tabbed_eb729c2a_1_1">Flask</label><label for="__tabbed_eb729c2a_1_2">Run it</label></div>
<div class="tabbed-content">
<div class="tabbed-block">
<div class="highlight"><pre><span></span><code><span class="kn">from</span><span class="w"> </span><span class="nn">flask</span><span class="w"> </span><span class="kn">import</span> <span class="n">Flask</span>

<span class="n">app</span> <span class="o">=</span> <span class="n">Flask</span><span class="p">(</span><span class="vm">__name__</span><span class="p">)</span>


<span class="nd">@app</span><span class="o">.</span><span class="n">get</span><span class="p">(</span><span class="s2">"/"</span><span class="p">)</span>
<span class="k">def</span><span class="w"> </span><span class="nf">home</span><span class="p">():</span>
    <span class="k">return</span> <span class="s2">"Hello"</span>
</code></pre></div>
</div>
<div class="tabbed-block">
<div class="highlight"><pre><span></span><code><span class="gp">$ </span>flask<span class="w"> </span>--app<span class="w"> </span>app<span class="w"> </span>run
</code></pre></div>
</div>
</div>
</div>
<div class="admonition tip">
<p class="admonition-title">Tip</p>
<p><code>flask --app app run --debug</code> reloads the server when you save a file.</p>
</div>','<div class="toc">
<ul>
<li><a href="#the-application" rel="noopener noreferrer">The application</a></li>
</ul>
</div>
','published','2026-12-04 21:19:25.935901','2026-12-04 21:19:25.935932',2);
INSERT INTO "lessons_lesson" VALUES(4,'routing','Routing','URLs, variables and methods: how Flask picks a view.',2,'## Variables in the path

`@app.get("/hello/<name>")` passes `name` to the view as an argument.','<h2 id="variables-in-the-path">Variables in the path<a class="headerlink" href="#variables-in-the-path" title="Link to this section" rel="noopener noreferrer">#</a></h2>
<p><code>@app.get("/hello/&lt;name&gt;")</code> passes <code>name</code> to the view as an argument.</p>','<div class="toc">
<ul>
<li><a href="#variables-in-the-path" rel="noopener noreferrer">Variables in the path</a></li>
</ul>
</div>
','published','2026-12-04 21:19:25.938818','2026-12-04 21:19:25.938839',2);
PRAGMA writable_schema=ON;
CREATE TABLE "sandbox_draft" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "framework" varchar(10) NOT NULL, "files" text NOT NULL CHECK ((JSON_VALID("files") OR "files" IS NULL)), "updated" datetime NOT NULL, "exercise_id" bigint NOT NULL REFERENCES "lessons_exercise" ("id") DEFERRABLE INITIALLY DEFERRED, "learner_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "unique_draft" UNIQUE ("learner_id", "exercise_id", "framework"));
INSERT INTO "sandbox_draft" VALUES(1,'flask','{"app.py": "x = 1"}','2026-12-04 21:19:34.165501',1,2);
CREATE TABLE "sandbox_submission" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "framework" varchar(10) NOT NULL, "state" varchar(10) NOT NULL, "phase" varchar(20) NOT NULL, "result" text NULL CHECK ((JSON_VALID("result") OR "result" IS NULL)), "score" integer NULL, "max_score" integer NULL, "attempt" integer unsigned NOT NULL CHECK ("attempt" >= 0), "grading_attempts" integer unsigned NOT NULL CHECK ("grading_attempts" >= 0), "created" datetime NOT NULL, "queued_at" datetime NOT NULL, "started_at" datetime NULL, "finished_at" datetime NULL, "exercise_id" bigint NOT NULL REFERENCES "lessons_exercise" ("id") DEFERRABLE INITIALLY DEFERRED, "learner_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "archive_id" bigint NULL REFERENCES "sandbox_submissionarchive" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "sandbox_submission" VALUES(1,'flask','done','','{"status": "passed", "score": 1, "max_score": 1, "message": "ok", "tests": [], "log": "", "timings": {}}',1,1,1,0,'2026-12-04 21:19:34.161189','2026-12-04 21:19:34.161206',NULL,NULL,1,2,1);
INSERT INTO "sandbox_submission" VALUES(2,'flask','queued','',NULL,NULL,NULL,1,0,'2026-12-04 21:19:34.162681','2026-12-04 21:19:34.162693',NULL,NULL,1,2,1);
INSERT INTO "sandbox_submission" VALUES(3,'flask','done','','{"status": "failed", "score": 0, "max_score": 1, "message": "no", "tests": [], "log": "", "timings": {}}',0,1,1,0,'2026-12-04 21:19:34.164845','2026-12-04 21:19:34.164858',NULL,NULL,1,1,2);
CREATE TABLE "sandbox_submissionarchive" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "sha256" varchar(64) NOT NULL UNIQUE, "data" BLOB NOT NULL, "size" integer unsigned NOT NULL CHECK ("size" >= 0), "created" datetime NOT NULL, "last_used" datetime NOT NULL);
INSERT INTO "sandbox_submissionarchive" VALUES(1,'b156b50e2841d647c510bf28c3bf56101277ef8d1bd1686790b524b4f6f5fc3a',X'504B03041400000008000000210008A790ED0A00000008000000060000006170702E70792B28CACC2BD130D40400504B010214031400000008000000210008A790ED0A00000008000000060000000000000000000000A481000000006170702E7079504B05060000000001000100340000002E0000000000',120,'2026-12-04 21:19:34.159939','2026-12-04 21:19:34.161844');
INSERT INTO "sandbox_submissionarchive" VALUES(2,'553d57cf788889534ed38deca4934a61fb0fe8dbfbb738eac9a5740cebea4c35',X'504B030414000000080000002100CBF4BDC60A00000008000000060000006170702E70792B28CACC2BD130D20400504B0102140314000000080000002100CBF4BDC60A00000008000000060000000000000000000000A481000000006170702E7079504B05060000000001000100340000002E0000000000',120,'2026-12-04 21:19:34.164315','2026-12-04 21:19:34.164327');
CREATE UNIQUE INDEX "auth_group_permissions_group_id_permission_id_0cd325b0_uniq" ON "auth_group_permissions" ("group_id", "permission_id");
CREATE INDEX "auth_group_permissions_group_id_b120cbf9" ON "auth_group_permissions" ("group_id");
CREATE INDEX "auth_group_permissions_permission_id_84c5c92e" ON "auth_group_permissions" ("permission_id");
CREATE UNIQUE INDEX "auth_user_groups_user_id_group_id_94350c0c_uniq" ON "auth_user_groups" ("user_id", "group_id");
CREATE INDEX "auth_user_groups_user_id_6a12ed8b" ON "auth_user_groups" ("user_id");
CREATE INDEX "auth_user_groups_group_id_97559544" ON "auth_user_groups" ("group_id");
CREATE UNIQUE INDEX "auth_user_user_permissions_user_id_permission_id_14a6b632_uniq" ON "auth_user_user_permissions" ("user_id", "permission_id");
CREATE INDEX "auth_user_user_permissions_user_id_a95ead1b" ON "auth_user_user_permissions" ("user_id");
CREATE INDEX "auth_user_user_permissions_permission_id_1fbb5f2c" ON "auth_user_user_permissions" ("permission_id");
CREATE INDEX "django_admin_log_content_type_id_c4bce8eb" ON "django_admin_log" ("content_type_id");
CREATE INDEX "django_admin_log_user_id_c564eba6" ON "django_admin_log" ("user_id");
CREATE UNIQUE INDEX "django_content_type_app_label_model_76bd3d3b_uniq" ON "django_content_type" ("app_label", "model");
CREATE UNIQUE INDEX "auth_permission_content_type_id_codename_01ab375a_uniq" ON "auth_permission" ("content_type_id", "codename");
CREATE INDEX "auth_permission_content_type_id_2f476e4b" ON "auth_permission" ("content_type_id");
CREATE INDEX "courses_chapter_slug_f219653a" ON "courses_chapter" ("slug");
CREATE INDEX "courses_chapter_course_id_24d15099" ON "courses_chapter" ("course_id");
CREATE INDEX "lessons_exercise_course_id_83fa8fa2" ON "lessons_exercise" ("course_id");
CREATE INDEX "lessons_exercise_lesson_id_2877671b" ON "lessons_exercise" ("lesson_id");
CREATE INDEX "lessons_lesson_slug_af9ce118" ON "lessons_lesson" ("slug");
CREATE INDEX "lessons_lesson_chapter_id_c29dc589" ON "lessons_lesson" ("chapter_id");
CREATE INDEX "courses_apitoken_prefix_e3c8c92f" ON "courses_apitoken" ("prefix");
CREATE INDEX "courses_apitoken_user_id_888946df" ON "courses_apitoken" ("user_id");
CREATE INDEX "courses_lessonprogress_learner_id_c8475ab2" ON "courses_lessonprogress" ("learner_id");
CREATE INDEX "courses_lessonprogress_lesson_id_b0b36960" ON "courses_lessonprogress" ("lesson_id");
CREATE INDEX "sandbox_draft_exercise_id_0b1b68f3" ON "sandbox_draft" ("exercise_id");
CREATE INDEX "sandbox_draft_learner_id_a3bbb4d7" ON "sandbox_draft" ("learner_id");
CREATE INDEX "sandbox_submission_exercise_id_d4cefd8b" ON "sandbox_submission" ("exercise_id");
CREATE INDEX "sandbox_submission_learner_id_4b435205" ON "sandbox_submission" ("learner_id");
CREATE INDEX "sandbox_submission_archive_id_2081ef48" ON "sandbox_submission" ("archive_id");
CREATE INDEX "sandbox_sub_state_c127c7_idx" ON "sandbox_submission" ("state", "queued_at");
CREATE INDEX "django_session_expire_date_a5c62663" ON "django_session" ("expire_date");
PRAGMA writable_schema=OFF;
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('django_migrations',25);
INSERT INTO "sqlite_sequence" VALUES('django_admin_log',0);
INSERT INTO "sqlite_sequence" VALUES('django_content_type',15);
INSERT INTO "sqlite_sequence" VALUES('auth_permission',60);
INSERT INTO "sqlite_sequence" VALUES('auth_group',1);
INSERT INTO "sqlite_sequence" VALUES('auth_user',2);
INSERT INTO "sqlite_sequence" VALUES('lessons_lesson',4);
INSERT INTO "sqlite_sequence" VALUES('sandbox_submission',3);
INSERT INTO "sqlite_sequence" VALUES('courses_course',1);
INSERT INTO "sqlite_sequence" VALUES('courses_chapter',2);
INSERT INTO "sqlite_sequence" VALUES('lessons_exercise',1);
INSERT INTO "sqlite_sequence" VALUES('auth_group_permissions',15);
INSERT INTO "sqlite_sequence" VALUES('auth_user_groups',1);
INSERT INTO "sqlite_sequence" VALUES('courses_apitoken',1);
INSERT INTO "sqlite_sequence" VALUES('courses_lessonprogress',1);
INSERT INTO "sqlite_sequence" VALUES('sandbox_submissionarchive',2);
INSERT INTO "sqlite_sequence" VALUES('sandbox_draft',1);
CREATE VIRTUAL TABLE lessons_search_index USING fts5(
    kind UNINDEXED,
    object_id UNINDEXED,
    title,
    summary,
    body,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
COMMIT;
