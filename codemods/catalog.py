"""The blocking-API catalog: data, not code.

Three tables feed the analysis:

* ``CODES``: one entry per finding code (category, rule page text, linter equivalents).
* ``APIS``: one row per blocking API: qualified target, code, native fix, flake8-async/ruff code.
  A target is ``module.function`` or ``Type.method`` where ``Type`` is a canonical name from
  ``TYPES``; ``Type.*`` means every method of the type except those listed in its ``pure`` set.
* ``TYPES``: what receiver inference knows about library types: aliases (every spelling that
  names the type), what calling the type's factories returns, what methods and attributes
  return, and what ``with x as y`` binds.

Nothing here is executed per call site: ``Catalog`` indexes the rows once.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Code:
    code: str
    category: str
    title: str
    why: str
    example: str
    use_instead: str
    offload: str  # what the offload phase does
    native: str  # what the native phase does ("" when no async library replaces it)
    linter_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Api:
    target: str
    code: str
    native: str = ""  # the async replacement, shown as the suggestion
    linter: str = ""  # flake8-async / ruff code reporting the same call, if any
    unless_kw: tuple[str, ...] = ()  # not blocking when any of these keywords is passed
    unless_args: int = 0  # not blocking when at least this many positional args (0: ignore)


@dataclass(frozen=True)
class TypeInfo:
    name: str
    aliases: tuple[str, ...] = ()
    returns: dict[str, str] = field(default_factory=dict)  # method -> type of its result
    attrs: dict[str, str] = field(default_factory=dict)  # attribute -> type
    call_returns: str = ""  # calling an instance (sessionmaker()) gives this type
    enter: str = "self"  # `with x as y`: y's type ("self" = same type, "" = unknown)
    pure: frozenset[str] = frozenset()  # methods that never block on a `Type.*` row
    family: str = ""  # instances whose methods return more of the same family (LangChain)
    items: dict[str, str] = field(default_factory=dict)  # x["key"] -> type (boto3 responses)
    fluent: bool = False  # methods not listed in ``returns`` return the same type (redis pipelines)


# ---------------------------------------------------------------------------------------
# Finding codes and their rule pages
# ---------------------------------------------------------------------------------------

_CODES = [
    Code(
        "AM100", "http", "Sync HTTP call in async function",
        "An HTTP request made with `requests`, sync `httpx`, `urllib` or `urllib3` waits for the "
        "network on the event loop thread. Every other request, WebSocket and health check on "
        "this worker stalls until the remote server answers.",
        "async def fetch(url: str) -> dict:\n    return requests.get(url, timeout=5).json()",
        "async def fetch(url: str) -> dict:\n    async with httpx.AsyncClient() as client:\n"
        "        response = await client.get(url, timeout=5)\n    return response.json()",
        "Wraps the call in `await asyncio.to_thread(...)`.",
        "Switches to `httpx.AsyncClient` and awaits the request.",
        ("ASYNC210", "ASYNC211", "ASYNC212"),
    ),
    Code(
        "AM110", "subprocess", "Blocking subprocess call in async function",
        "`subprocess.run`, `os.system`, `Popen.wait` and friends wait for a child process on the "
        "event loop thread; nothing else runs until the process exits.",
        "async def convert(path: str) -> None:\n"
        "    subprocess.run([\"ffmpeg\", \"-i\", path, \"out.mp4\"], check=True)",
        "async def convert(path: str) -> None:\n"
        "    proc = await asyncio.create_subprocess_exec(\"ffmpeg\", \"-i\", path, \"out.mp4\")\n"
        "    await proc.communicate()",
        "Wraps the call in `await asyncio.to_thread(...)`.",
        "Uses `asyncio.create_subprocess_exec` and `await proc.communicate()`.",
        ("ASYNC220", "ASYNC221", "ASYNC222"),
    ),
    Code(
        "AM120", "file-open", "Blocking file open in async function",
        "`open()` touches the file system (and may hit a network mount or a slow disk) on the "
        "event loop; the reads and writes that follow block too.",
        "async def load(path: str) -> str:\n    with open(path) as f:\n        return f.read()",
        "async def load(path: str) -> str:\n    async with aiofiles.open(path) as f:\n        return await f.read()",
        "Extracts the `with open(...)` block into a sync helper run with `asyncio.to_thread`.",
        "Uses `aiofiles.open` (or `anyio.open_file`) and awaits the file methods.",
        ("ASYNC230", "ASYNC231"),
    ),
    Code(
        "AM121", "file-io", "Blocking call on a file object in async function",
        "`read()`, `write()`, `readline()` and `flush()` on a regular file object are blocking "
        "system calls made on the event loop thread.",
        "async def save(f, data: bytes) -> None:\n    f.write(data)",
        "async def save(f, data: bytes) -> None:\n    await asyncio.to_thread(f.write, data)",
        "Wraps the call in `await asyncio.to_thread(...)`.",
        "Uses an `aiofiles` file object and awaits the method.",
        ("ASYNC232",),
    ),
    Code(
        "AM130", "path", "Blocking os.path / pathlib call in async function",
        "`os.path.exists`, `Path.read_text`, `Path.stat` and similar calls query the file system "
        "with blocking system calls on the event loop thread.",
        "async def has_report(p: Path) -> bool:\n    return p.exists()",
        "async def has_report(p: Path) -> bool:\n    return await aiofiles.os.path.exists(p)",
        "Wraps the call in `await asyncio.to_thread(...)`.",
        "Uses `aiofiles.os` / `aiofiles.os.path` (or `anyio.Path`).",
        ("ASYNC240",),
    ),
    Code(
        "AM131", "os-fs", "Blocking file-system operation in async function",
        "`os.makedirs`, `os.remove`, `os.listdir`, `shutil.copy`, `shutil.rmtree` and the like "
        "perform blocking system calls (possibly many of them) on the event loop thread.",
        "async def reset(dir: str) -> None:\n    shutil.rmtree(dir)\n    os.makedirs(dir)",
        "async def reset(dir: str) -> None:\n    await asyncio.to_thread(shutil.rmtree, dir)\n"
        "    await aiofiles.os.makedirs(dir)",
        "Wraps the call in `await asyncio.to_thread(...)`.",
        "Uses `aiofiles.os` where it has the function, `to_thread` otherwise.",
    ),
    Code(
        "AM132", "json-file", "json.load / json.dump on a file in async function",
        "`json.load(f)` and `json.dump(obj, f)` read and write the file object synchronously "
        "on the event loop thread.",
        "async def read_config(path: str) -> dict:\n    with open(path) as f:\n        return json.load(f)",
        "async def read_config(path: str) -> dict:\n    async with aiofiles.open(path) as f:\n"
        "        return json.loads(await f.read())",
        "Extracts the file block into a sync helper run with `asyncio.to_thread`.",
        "Reads with `aiofiles` and uses `json.loads` / `json.dumps` on the text.",
    ),
    Code(
        "AM140", "input", "Blocking input() in async function",
        "`input()` waits for a line on standard input; the event loop is frozen until the user types.",
        "async def confirm() -> bool:\n    return input(\"continue? \") == \"y\"",
        "async def confirm() -> bool:\n    return await asyncio.to_thread(input, \"continue? \") == \"y\"",
        "Wraps the call in `await asyncio.to_thread(...)`.",
        "",
        ("ASYNC250",),
    ),
    Code(
        "AM150", "sleep", "time.sleep in async function",
        "`time.sleep` suspends the whole thread, and with it the event loop and every task on it.",
        "async def retry(call):\n    for attempt in range(3):\n        time.sleep(2 ** attempt)",
        "async def retry(call):\n    for attempt in range(3):\n        await asyncio.sleep(2 ** attempt)",
        "Rewrites to `await asyncio.sleep(...)` (no thread needed).",
        "Rewrites to `await asyncio.sleep(...)`.",
        ("ASYNC251",),
    ),
    Code(
        "AM200", "sqlalchemy", "Sync SQLAlchemy / SQLModel database call in async function",
        "A sync `Session` (or `Engine`/`Connection`) runs the query, waits for the database and "
        "fetches rows on the event loop thread. Under load one slow query stalls every request; "
        "LangGraph's dev server stops with \"Blocking call to sqlite3.Cursor.execute\".",
        "async def list_items(session: SessionDep) -> list[Item]:\n    return session.exec(select(Item)).all()",
        "async def list_items(session: AsyncSessionDep) -> list[Item]:\n"
        "    return (await session.exec(select(Item))).all()",
        "Wraps the call chain in `await asyncio.to_thread(lambda: ...)`.",
        "Switches to `AsyncSession` / `create_async_engine` and awaits the calls.",
    ),
    Code(
        "AM210", "sqlite3", "sqlite3 call in async function",
        "`sqlite3` connects, executes and fetches synchronously; each call holds the event loop "
        "thread for the duration of the disk I/O and locking.",
        "async def count(db: sqlite3.Connection) -> int:\n"
        "    return db.execute(\"select count(*) from t\").fetchone()[0]",
        "async def count(db: aiosqlite.Connection) -> int:\n"
        "    async with db.execute(\"select count(*) from t\") as cur:\n        return (await cur.fetchone())[0]",
        "Wraps the call in `await asyncio.to_thread(...)`.",
        "Switches to `aiosqlite` and awaits the calls.",
    ),
    Code(
        "AM220", "boto3", "boto3 call in async function",
        "boto3 clients and resources make blocking HTTP calls to AWS on the event loop thread "
        "(and `StreamingBody.read()` downloads the whole object there).",
        "async def archive(key: str, body: bytes) -> None:\n    s3.put_object(Bucket=BUCKET, Key=key, Body=body)",
        "async def archive(key: str, body: bytes) -> None:\n"
        "    async with session.client(\"s3\") as s3:\n        await s3.put_object(Bucket=BUCKET, Key=key, Body=body)",
        "Wraps the call in `await asyncio.to_thread(...)`.",
        "Switches to `aioboto3` clients used as async contexts.",
    ),
    Code(
        "AM230", "redis", "Sync redis call in async function",
        "A sync `redis.Redis` client sends the command and waits for the reply on the event loop "
        "thread; a slow or unreachable Redis freezes the service.",
        "async def cached(key: str) -> bytes | None:\n    return redis_client.get(key)",
        "async def cached(key: str) -> bytes | None:\n    return await redis_client.get(key)  # redis.asyncio.Redis",
        "Wraps the call in `await asyncio.to_thread(...)`.",
        "Switches to `redis.asyncio` and awaits the commands.",
    ),
    Code(
        "AM240", "socket", "Blocking socket call in async function",
        "Blocking socket operations (`connect`, `recv`, `sendall`, `accept`, DNS look-ups) wait "
        "on the network on the event loop thread.",
        "async def ping(host: str) -> None:\n    socket.create_connection((host, 80), timeout=3).close()",
        "async def ping(host: str) -> None:\n"
        "    reader, writer = await asyncio.open_connection(host, 80)\n    writer.close()",
        "Wraps the call in `await asyncio.to_thread(...)`.",
        "Uses `asyncio.open_connection` / loop socket methods.",
    ),
    Code(
        "AM250", "sync-primitive", "Blocking wait on a threading primitive in async function",
        "`threading.Lock.acquire()`, `Event.wait()`, `queue.Queue.get()` and `Thread.join()` "
        "without a timeout can wait forever on the event loop thread, and deadlock when the "
        "releasing side needs the loop.",
        "async def next_job(q: queue.Queue) -> Job:\n    return q.get()",
        "async def next_job(q: queue.Queue) -> Job:\n    return await asyncio.to_thread(q.get)",
        "Wraps the call in `await asyncio.to_thread(...)`.",
        "Uses `asyncio.Lock` / `asyncio.Queue` / `asyncio.Event` where the producer is async too.",
    ),
    Code(
        "AM260", "llm", "Sync LLM SDK call in async function",
        "`anthropic.Anthropic` and `openai.OpenAI` clients make blocking HTTP calls that often "
        "take seconds (or stream for minutes) on the event loop thread.",
        "async def reply(prompt: str) -> str:\n"
        "    msg = claude.messages.create(model=M, max_tokens=512, messages=[...])",
        "async def reply(prompt: str) -> str:\n    msg = await claude.messages.create(...)  # anthropic.AsyncAnthropic",
        "Wraps the call in `await asyncio.to_thread(...)`.",
        "Switches to `AsyncAnthropic` / `AsyncOpenAI` and awaits the calls.",
    ),
    Code(
        "AM270", "langchain", "Sync LangChain / LangGraph invoke in async function",
        "`invoke`, `stream` and `batch` on a LangChain runnable or a compiled LangGraph graph run "
        "the whole chain (model calls, tools, retrievers) synchronously on the event loop thread, "
        "although an async twin exists.",
        "async def answer(q: str) -> str:\n    return chain.invoke({\"question\": q})",
        "async def answer(q: str) -> str:\n    return await chain.ainvoke({\"question\": q})",
        "Wraps the call in `await asyncio.to_thread(...)`.",
        "Uses `ainvoke` / `astream` / `abatch`.",
    ),
    Code(
        "AM280", "loop-api", "asyncio.get_event_loop() inside a coroutine",
        "Inside a coroutine `asyncio.get_event_loop()` is deprecated; it is almost always used for "
        "`run_in_executor(None, ...)`, which `asyncio.to_thread` replaces.",
        "async def work():\n    loop = asyncio.get_event_loop()\n    return await loop.run_in_executor(None, compute)",
        "async def work():\n    return await asyncio.to_thread(compute)",
        "Rewrites `run_in_executor(None, f, *args)` to `asyncio.to_thread(f, *args)`; otherwise "
        "uses `asyncio.get_running_loop()`.",
        "",
    ),
    Code(
        "AM300", "hazard-expired", "ORM object read on the loop after a commit expired it",
        "With the default `expire_on_commit=True`, `commit()` expires every loaded object; the next "
        "attribute read (or FastAPI serialising the returned object) silently runs a SELECT to refresh "
        "it. Once the commit runs in a thread, that hidden query still runs on the event loop.",
        "async def create(item: Item, session: SessionDep) -> Item:\n    session.add(item)\n"
        "    await asyncio.to_thread(session.commit)\n    return item  # serialising reads expired attributes",
        "SessionLocal = sessionmaker(engine, expire_on_commit=False)\n# or refresh inside the thread:\n"
        "await asyncio.to_thread(lambda: (session.commit(), session.refresh(item)))",
        "Reported for review: set `expire_on_commit=False` on the session factory, or keep the reads in the "
        "thread call.",
        "`AsyncSession` with `expire_on_commit=False` (the native phase sets it).",
    ),
    Code(
        "AM301", "hazard-lazy-load", "Lazy-loaded relationship read on the loop",
        "Reading a relationship attribute that was not loaded with the query (the default `lazy=\"select\"`) "
        "runs a SELECT at that moment: after offloading the query to a thread, the lazy load still "
        "blocks the event loop (and with `AsyncSession` it raises `MissingGreenlet`).",
        "conversation = await asyncio.to_thread(session.get, Conversation, cid)\n"
        "return [m.content for m in conversation.messages]  # lazy load on the loop",
        "statement = select(Conversation).options(selectinload(Conversation.messages))",
        "Reported for review: load the relationship eagerly (`selectinload`) or read it inside the thread call.",
        "`selectinload` / `joinedload` options on the query.",
    ),
    Code(
        "AM302", "hazard-thread-shared", "Session or connection shared across threads",
        "A SQLAlchemy `Session` is not thread-safe and a `sqlite3` connection refuses use from another "
        "thread unless created with `check_same_thread=False`. Offloading calls on them to worker threads "
        "(or running two `to_thread` calls on one session at once) breaks that contract.",
        "conn = sqlite3.connect(\"app.db\")\n\nasync def count():\n"
        "    return await asyncio.to_thread(lambda: conn.execute(\"select count(*) from t\").fetchone())",
        "conn = sqlite3.connect(\"app.db\", check_same_thread=False)  # and serialise access with a lock",
        "Reported for review.",
        "`aiosqlite` / `AsyncSession` keep each connection on one task.",
    ),
    Code(
        "AM303", "hazard-pool", "Pooled connection held across a thread call that needs another",
        "The request holds a database session (and, once used, a pooled connection) while it awaits a "
        "thread call that opens its own session. Under load every request needs two connections at "
        "once: with SQLAlchemy's default pool (pool_size=5, max_overflow=10) more than 7 concurrent "
        "requests exhaust the pool and the threads wait for connections that are never returned.",
        "async def post(session: SessionDep):\n    session.get(Conversation, cid)\n"
        "    await asyncio.to_thread(MessageRepository.create, cid, text)  # opens Session(engine)",
        "await asyncio.to_thread(MessageRepository.create, cid, text, session=session)  # reuse one session",
        "Reported for review with the pool size the route needs.",
        "One `AsyncSession` per request passed down to the repository layer.",
    ),
    Code(
        "AM900", "custom", "Project-configured blocking call in async function",
        "The project declared this call blocking in `[tool.asgi-migrate] blocking-calls`.",
        "async def handler():\n    legacy.fetch_report()",
        "async def handler():\n    await legacy.fetch_report_async()",
        "Wraps the call in `await asyncio.to_thread(...)`.",
        "Uses the replacement named in the configuration.",
    ),
]
CODES: dict[str, Code] = {c.code: c for c in _CODES}
CATEGORIES: dict[str, str] = {c.category: c.code for c in _CODES}

# ---------------------------------------------------------------------------------------
# Library types known to receiver inference
# ---------------------------------------------------------------------------------------

_SA_SESSION_RETURNS = {m: "sqlalchemy.Result" for m in ("exec", "execute")}
_TYPES = [
    # --- SQLAlchemy / SQLModel
    TypeInfo(
        "sqlalchemy.orm.Session",
        aliases=("sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session", "sqlmodel.Session",
                 "sqlmodel.orm.session.Session"),
        returns={**_SA_SESSION_RETURNS, "scalars": "sqlalchemy.Result", "query": "sqlalchemy.orm.Query",
                 "connection": "sqlalchemy.engine.Connection", "begin": "sqlalchemy.orm.SessionTransaction",
                 "begin_nested": "sqlalchemy.orm.SessionTransaction"},
    ),
    TypeInfo("sqlalchemy.orm.scoped_session",
             aliases=("sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoping.scoped_session"),
             returns={**_SA_SESSION_RETURNS, "scalars": "sqlalchemy.Result", "query": "sqlalchemy.orm.Query"},
             call_returns="sqlalchemy.orm.Session"),
    TypeInfo("sqlalchemy.orm.sessionmaker",
             aliases=("sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"),
             call_returns="sqlalchemy.orm.Session", returns={"begin": "sqlalchemy.orm.Session"}),
    TypeInfo("sqlalchemy.orm.SessionTransaction", enter="self"),
    TypeInfo("sqlalchemy.Result",
             aliases=("sqlalchemy.Result", "sqlalchemy.engine.Result", "sqlalchemy.engine.CursorResult",
                      "sqlalchemy.engine.ScalarResult"),
             returns={"scalars": "sqlalchemy.Result", "unique": "sqlalchemy.Result",
                      "mappings": "sqlalchemy.Result", "columns": "sqlalchemy.Result"}),
    TypeInfo("sqlalchemy.orm.Query",
             aliases=("sqlalchemy.orm.Query", "sqlalchemy.orm.query.Query"),
             returns={m: "sqlalchemy.orm.Query" for m in (
                 "filter", "filter_by", "order_by", "limit", "offset", "join", "outerjoin", "options",
                 "group_by", "having", "distinct", "where", "with_entities", "select_from")}),
    TypeInfo("sqlalchemy.engine.Engine",
             aliases=("sqlalchemy.engine.Engine", "sqlalchemy.Engine", "sqlalchemy.engine.base.Engine"),
             returns={"connect": "sqlalchemy.engine.Connection", "begin": "sqlalchemy.engine.Connection",
                      "raw_connection": "sqlalchemy.engine.Connection"}),
    TypeInfo("sqlalchemy.engine.Connection",
             aliases=("sqlalchemy.engine.Connection", "sqlalchemy.Connection", "sqlalchemy.engine.base.Connection"),
             returns={"execute": "sqlalchemy.Result", "exec_driver_sql": "sqlalchemy.Result"}),
    TypeInfo("sqlalchemy.MetaData", aliases=("sqlalchemy.MetaData", "sqlalchemy.schema.MetaData")),
    TypeInfo("sqlmodel.SQLModel", aliases=("sqlmodel.SQLModel", "sqlmodel.main.SQLModel"),
             attrs={"metadata": "sqlalchemy.MetaData"}),
    TypeInfo("sqlalchemy.orm.DeclarativeBase",
             aliases=("sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta",
                      "sqlalchemy.orm.decl_api.DeclarativeBase"),
             attrs={"metadata": "sqlalchemy.MetaData"}),
    # --- sqlite3
    TypeInfo("sqlite3.Connection", aliases=("sqlite3.Connection", "sqlite3.dbapi2.Connection"),
             returns={"cursor": "sqlite3.Cursor", "execute": "sqlite3.Cursor", "executemany": "sqlite3.Cursor",
                      "executescript": "sqlite3.Cursor"}),
    TypeInfo("sqlite3.Cursor", aliases=("sqlite3.Cursor", "sqlite3.dbapi2.Cursor"),
             returns={"execute": "sqlite3.Cursor", "executemany": "sqlite3.Cursor"}),
    # --- boto3
    TypeInfo("boto3.Session", aliases=("boto3.Session", "boto3.session.Session"),
             returns={"client": "boto3.Client", "resource": "boto3.Resource"}),
    TypeInfo("boto3.Client", aliases=("boto3.Client", "botocore.client.BaseClient"),
             returns={"get_object": "boto3.GetObjectOutput"},
             pure=frozenset({"generate_presigned_url", "generate_presigned_post", "get_paginator",
                             "get_waiter", "can_paginate", "close", "meta", "exceptions"}),
             enter=""),
    TypeInfo("boto3.Resource", aliases=("boto3.Resource", "boto3.resources.base.ServiceResource"),
             returns={"Bucket": "boto3.ResourceObject", "Object": "boto3.ResourceObject",
                      "Table": "boto3.ResourceObject", "Queue": "boto3.ResourceObject"},
             pure=frozenset({"Bucket", "Object", "Table", "Queue", "meta", "ObjectSummary", "Topic"})),
    TypeInfo("boto3.ResourceObject", pure=frozenset({"meta", "Object", "Bucket"})),
    TypeInfo("boto3.GetObjectOutput", items={"Body": "botocore.response.StreamingBody"}),
    TypeInfo("botocore.response.StreamingBody", aliases=("botocore.response.StreamingBody",)),
    # --- redis
    TypeInfo("redis.Redis",
             aliases=("redis.Redis", "redis.StrictRedis", "redis.client.Redis", "redis.client.StrictRedis"),
             returns={"pipeline": "redis.Pipeline", "from_url": "redis.Redis", "pubsub": "redis.PubSub",
                      "lock": "redis.Lock"},
             pure=frozenset({"pipeline", "pubsub", "lock", "from_url", "get_connection_kwargs",
                             "get_encoder", "register_script", "set_response_callback"})),
    TypeInfo("redis.Pipeline", aliases=("redis.Pipeline", "redis.client.Pipeline"), fluent=True),
    TypeInfo("redis.PubSub", aliases=("redis.PubSub", "redis.client.PubSub")),
    TypeInfo("redis.Lock", aliases=("redis.lock.Lock",)),
    # --- HTTP
    TypeInfo("requests.Session", aliases=("requests.Session", "requests.sessions.Session"),
             returns={m: "requests.Response" for m in ("get", "post", "put", "patch", "delete", "head",
                                                        "options", "request", "send")}),
    TypeInfo("requests.Response", aliases=("requests.Response", "requests.models.Response")),
    TypeInfo("httpx.Client", aliases=("httpx.Client", "httpx._client.Client")),
    TypeInfo("urllib3.PoolManager",
             aliases=("urllib3.PoolManager", "urllib3.poolmanager.PoolManager", "urllib3.ProxyManager",
                      "urllib3.HTTPConnectionPool", "urllib3.HTTPSConnectionPool",
                      "urllib3.connectionpool.HTTPConnectionPool")),
    # --- files and paths
    TypeInfo("io.File", aliases=("io.TextIOWrapper", "io.BufferedReader", "io.BufferedWriter",
                                 "io.BufferedRandom", "typing.IO", "typing.TextIO", "typing.BinaryIO")),
    TypeInfo("pathlib.Path",
             aliases=("pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath"),
             returns={m: "pathlib.Path" for m in ("resolve", "absolute", "expanduser", "with_suffix", "with_name",
                                                  "with_stem", "joinpath", "relative_to", "home", "cwd",
                                                  "readlink")} | {"open": "io.File"},
             attrs={"parent": "pathlib.Path"}),
    # --- processes, sockets, threads
    TypeInfo("subprocess.Popen", aliases=("subprocess.Popen",)),
    TypeInfo("socket.socket", aliases=("socket.socket", "socket.SocketType")),
    TypeInfo("threading.Lock", aliases=("threading.Lock", "threading.RLock", "threading.Semaphore",
                                        "threading.BoundedSemaphore", "threading.Condition")),
    TypeInfo("threading.Event", aliases=("threading.Event",)),
    TypeInfo("threading.Thread", aliases=("threading.Thread",)),
    TypeInfo("queue.Queue", aliases=("queue.Queue", "queue.LifoQueue", "queue.PriorityQueue",
                                     "queue.SimpleQueue", "multiprocessing.Queue")),
    TypeInfo("concurrent.futures.Future", aliases=("concurrent.futures.Future",)),
    # --- LLM SDKs: every method reached through the client blocks (client.chat.completions.create)
    TypeInfo("anthropic.Anthropic",
             aliases=("anthropic.Anthropic", "anthropic.Client", "anthropic.AnthropicBedrock",
                      "anthropic.AnthropicVertex", "anthropic.lib.bedrock.AnthropicBedrock"),
             pure=frozenset({"with_options", "copy", "with_raw_response", "with_streaming_response"}),
             returns={"with_options": "SELF", "copy": "SELF"}, enter="self"),
    TypeInfo("openai.OpenAI",
             aliases=("openai.OpenAI", "openai.Client", "openai.AzureOpenAI"),
             pure=frozenset({"with_options", "copy", "with_raw_response", "with_streaming_response"}),
             returns={"with_options": "SELF", "copy": "SELF"}, enter="self"),
    # --- LangChain / LangGraph: a family; what its methods return stays in the family
    TypeInfo("langchain.Runnable", family="langchain",
             aliases=("langchain_core.runnables.Runnable", "langgraph.graph.state.CompiledStateGraph",
                      "langgraph.pregel.Pregel")),
]
# Module functions (and types called as factories) whose result has a known type.
FACTORIES: dict[str, str] = {
    "sqlmodel.create_engine": "sqlalchemy.engine.Engine",
    "sqlalchemy.create_engine": "sqlalchemy.engine.Engine",
    "sqlalchemy.engine.create_engine": "sqlalchemy.engine.Engine",
    "sqlalchemy.orm.declarative_base": "sqlalchemy.orm.DeclarativeBase",
    "sqlalchemy.ext.declarative.declarative_base": "sqlalchemy.orm.DeclarativeBase",
    "sqlite3.connect": "sqlite3.Connection",
    "sqlite3.dbapi2.connect": "sqlite3.Connection",
    "boto3.client": "boto3.Client",
    "boto3.resource": "boto3.Resource",
    "boto3.session.Session": "boto3.Session",
    "redis.from_url": "redis.Redis",
    "redis.Redis.from_url": "redis.Redis",
    "redis.StrictRedis.from_url": "redis.Redis",
    "requests.session": "requests.Session",
    "builtins.open": "io.File",
    "io.open": "io.File",
    "codecs.open": "io.File",
    "os.fdopen": "io.File",
    "pathlib.Path.home": "pathlib.Path",
    "pathlib.Path.cwd": "pathlib.Path",
    "socket.create_connection": "socket.socket",
    "socket.create_server": "socket.socket",
    "subprocess.Popen": "subprocess.Popen",
    "threading.Lock": "threading.Lock",
    "threading.RLock": "threading.Lock",
}
# Codes that only matter directly in a coroutine: a sync helper calling them does not block.
DIRECT_ONLY = frozenset({"AM280"})
# Hazards: reported for review, never rewritten, never counted as blocking calls.
HAZARDS = frozenset({"AM300", "AM301", "AM302", "AM303"})
# Calls whose result is an ORM relationship descriptor (class attributes holding them are lazy loads).
RELATIONSHIP_FACTORIES = frozenset({"sqlmodel.Relationship", "sqlmodel.main.Relationship",
                                    "sqlalchemy.orm.relationship", "sqlalchemy.orm.relationships.relationship"})

# Calls that return (a wrapper behaving like) their first argument: ``get_db = contextmanager(get_session)``.
WRAPPERS = frozenset({"contextlib.contextmanager", "functools.lru_cache", "functools.cache"})

# Module prefixes of a type family: any class imported from these is in the family.
FAMILY_PREFIXES: dict[str, str] = {
    "langchain": "langchain.Runnable",
    "langchain_core": "langchain.Runnable",
    "langchain_community": "langchain.Runnable",
    "langchain_openai": "langchain.Runnable",
    "langchain_anthropic": "langchain.Runnable",
    "langgraph": "langchain.Runnable",
}
# LangChain family members that are not runnables (no blocking invoke) would be rare; the
# family is matched only on invoke/stream/batch, so other methods are never reported.

# ---------------------------------------------------------------------------------------
# The blocking APIs
# ---------------------------------------------------------------------------------------

_HTTP_VERBS = ("get", "options", "head", "post", "put", "patch", "delete", "request")
_OS_FS = ("makedirs", "mkdir", "remove", "unlink", "rename", "renames", "replace", "rmdir", "removedirs",
          "listdir", "scandir", "stat", "lstat", "chmod", "chown", "link", "symlink", "readlink",
          "truncate", "utime", "walk", "access", "statvfs", "fsync", "sendfile")
_OS_PATH = ("exists", "lexists", "isfile", "isdir", "islink", "ismount", "getsize", "getmtime",
            "getatime", "getctime", "realpath", "samefile", "sameopenfile")
_PATH_METHODS = ("exists", "is_file", "is_dir", "is_symlink", "is_mount", "stat", "lstat", "read_text",
                 "read_bytes", "write_text", "write_bytes", "mkdir", "unlink", "rmdir", "rename",
                 "replace", "touch", "iterdir", "glob", "rglob", "resolve", "samefile", "chmod",
                 "owner", "group", "readlink", "symlink_to", "hardlink_to", "walk", "expanduser")
_SHUTIL = ("copy", "copy2", "copyfile", "copyfileobj", "copytree", "move", "rmtree", "make_archive",
           "unpack_archive", "disk_usage", "chown", "which")
_SESSION_IO = ("exec", "execute", "scalar", "scalars", "get", "get_one", "commit", "flush", "refresh",
               "delete", "merge", "rollback", "close", "query", "connection")
_RESULT_IO = ("all", "first", "one", "one_or_none", "scalar", "scalar_one", "scalar_one_or_none",
              "scalars", "fetchall", "fetchone", "fetchmany", "partitions", "unique", "mappings")
_QUERY_IO = ("all", "first", "one", "one_or_none", "scalar", "count", "get", "delete", "update", "exists")


def _rows() -> list[Api]:
    rows: list[Api] = []
    add = rows.append
    # http
    for verb in _HTTP_VERBS:
        add(Api(f"requests.{verb}", "AM100", "httpx.AsyncClient", "ASYNC210"))
        add(Api(f"requests.api.{verb}", "AM100", "httpx.AsyncClient", "ASYNC210"))
        add(Api(f"httpx.{verb}", "AM100", "httpx.AsyncClient", "ASYNC210"))
        add(Api(f"requests.Session.{verb}", "AM100", "httpx.AsyncClient"))
    for m in ("close", "send", "stream") + _HTTP_VERBS:
        add(Api(f"httpx.Client.{m}", "AM100", "httpx.AsyncClient", "ASYNC212"))
    add(Api("requests.Session.send", "AM100", "httpx.AsyncClient"))
    add(Api("httpx.stream", "AM100", "httpx.AsyncClient", "ASYNC210"))
    add(Api("urllib.request.urlopen", "AM100", "httpx.AsyncClient", "ASYNC210"))
    add(Api("urllib.request.urlretrieve", "AM100", "httpx.AsyncClient"))
    add(Api("urllib3.request", "AM100", "httpx.AsyncClient", "ASYNC210"))
    add(Api("urllib3.PoolManager.*", "AM100", "httpx.AsyncClient", "ASYNC212"))
    add(Api("http.client.HTTPConnection.request", "AM100", "httpx.AsyncClient"))
    add(Api("http.client.HTTPConnection.getresponse", "AM100", "httpx.AsyncClient"))
    # subprocess
    for f in ("run", "call", "check_call", "check_output", "getoutput", "getstatusoutput"):
        add(Api(f"subprocess.{f}", "AM110", "asyncio.create_subprocess_exec", "ASYNC221"))
    add(Api("subprocess.Popen", "AM110", "asyncio.create_subprocess_exec", "ASYNC220"))
    add(Api("os.popen", "AM110", "asyncio.create_subprocess_shell", "ASYNC220"))
    for f in ("system", "posix_spawn", "posix_spawnp"):
        add(Api(f"os.{f}", "AM110", "asyncio.create_subprocess_shell", "ASYNC221"))
    for f in ("spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe"):
        add(Api(f"os.{f}", "AM110", "asyncio.create_subprocess_exec", "ASYNC221"))
    for f in ("wait", "wait3", "wait4", "waitid", "waitpid"):
        add(Api(f"os.{f}", "AM110", "", "ASYNC222"))
    for m in ("wait", "communicate"):
        add(Api(f"subprocess.Popen.{m}", "AM110", "asyncio.subprocess.Process." + m, unless_kw=("timeout",)))
    # files
    for f in ("builtins.open", "io.open", "io.open_code", "codecs.open"):
        add(Api(f, "AM120", "aiofiles.open", "ASYNC230"))
    add(Api("os.fdopen", "AM120", "aiofiles.open", "ASYNC231"))
    add(Api("pathlib.Path.open", "AM120", "aiofiles.open", "ASYNC230"))
    for m in ("read", "readline", "readlines", "readinto", "write", "writelines", "flush", "truncate", "close"):
        add(Api(f"io.File.{m}", "AM121", "aiofiles", "ASYNC232"))
    for f in _OS_PATH:
        add(Api(f"os.path.{f}", "AM130", f"aiofiles.os.path.{f}", "ASYNC240"))
        add(Api(f"posixpath.{f}", "AM130", f"aiofiles.os.path.{f}", "ASYNC240"))
    for m in _PATH_METHODS:
        add(Api(f"pathlib.Path.{m}", "AM130", "anyio.Path", "ASYNC240"))
    for f in _OS_FS:
        add(Api(f"os.{f}", "AM131", f"aiofiles.os.{f}"))
    for f in _SHUTIL:
        add(Api(f"shutil.{f}", "AM131", ""))
    add(Api("glob.glob", "AM131", ""))
    add(Api("glob.iglob", "AM131", ""))
    add(Api("json.load", "AM132", "aiofiles + json.loads"))
    add(Api("json.dump", "AM132", "aiofiles + json.dumps"))
    add(Api("pickle.load", "AM132", ""))
    add(Api("pickle.dump", "AM132", ""))
    add(Api("builtins.input", "AM140", "", "ASYNC250"))
    add(Api("time.sleep", "AM150", "asyncio.sleep", "ASYNC251"))
    # SQLAlchemy / SQLModel
    for m in _SESSION_IO:
        add(Api(f"sqlalchemy.orm.Session.{m}", "AM200", "sqlalchemy.ext.asyncio.AsyncSession"))
        add(Api(f"sqlalchemy.orm.scoped_session.{m}", "AM200", "sqlalchemy.ext.asyncio.async_scoped_session"))
    for m in _RESULT_IO:
        add(Api(f"sqlalchemy.Result.{m}", "AM200", "await the statement, then read the buffered result"))
    for m in _QUERY_IO:
        add(Api(f"sqlalchemy.orm.Query.{m}", "AM200", "select() + AsyncSession.execute"))
    add(Api("sqlalchemy.orm.sessionmaker.begin", "AM200", "async_sessionmaker.begin"))
    for m in ("connect", "begin", "raw_connection", "dispose"):
        add(Api(f"sqlalchemy.engine.Engine.{m}", "AM200", "sqlalchemy.ext.asyncio.AsyncEngine"))
    for m in ("execute", "exec_driver_sql", "commit", "rollback", "close", "scalar", "scalars"):
        add(Api(f"sqlalchemy.engine.Connection.{m}", "AM200", "sqlalchemy.ext.asyncio.AsyncConnection"))
    for m in ("create_all", "drop_all", "reflect"):
        add(Api(f"sqlalchemy.MetaData.{m}", "AM200", "AsyncConnection.run_sync"))
    # sqlite3
    add(Api("sqlite3.connect", "AM210", "aiosqlite.connect"))
    for m in ("execute", "executemany", "executescript", "commit", "rollback", "close", "backup",
              "iterdump"):
        add(Api(f"sqlite3.Connection.{m}", "AM210", "aiosqlite.Connection"))
    for m in ("execute", "executemany", "executescript", "fetchone", "fetchall", "fetchmany"):
        add(Api(f"sqlite3.Cursor.{m}", "AM210", "aiosqlite.Cursor"))
    # boto3
    add(Api("boto3.Client.*", "AM220", "aioboto3"))
    add(Api("boto3.Resource.*", "AM220", "aioboto3"))
    add(Api("boto3.ResourceObject.*", "AM220", "aioboto3"))
    for m in ("read", "iter_lines", "iter_chunks", "readlines"):
        add(Api(f"botocore.response.StreamingBody.{m}", "AM220", "aioboto3 StreamingBody"))
    # redis
    add(Api("redis.Redis.*", "AM230", "redis.asyncio.Redis"))
    for m in ("execute", "watch", "reset"):
        add(Api(f"redis.Pipeline.{m}", "AM230", "redis.asyncio pipeline"))
    for m in ("get_message", "subscribe", "psubscribe", "listen", "unsubscribe"):
        add(Api(f"redis.PubSub.{m}", "AM230", "redis.asyncio PubSub"))
    for m in ("acquire", "release", "extend"):
        add(Api(f"redis.Lock.{m}", "AM230", "redis.asyncio Lock"))
    # sockets
    for m in ("connect", "accept", "recv", "recvfrom", "recv_into", "send", "sendall", "sendto",
              "sendfile", "makefile"):
        add(Api(f"socket.socket.{m}", "AM240", "asyncio streams"))
    for f in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr",
              "getfqdn"):
        add(Api(f"socket.{f}", "AM240", "asyncio.open_connection / loop.getaddrinfo"))
    # threading / queues, only without a timeout
    add(Api("threading.Lock.acquire", "AM250", "asyncio.Lock", unless_kw=("timeout", "blocking"), unless_args=1))
    add(Api("threading.Event.wait", "AM250", "asyncio.Event", unless_kw=("timeout",), unless_args=1))
    add(Api("threading.Thread.join", "AM250", "", unless_kw=("timeout",), unless_args=1))
    add(Api("queue.Queue.get", "AM250", "asyncio.Queue", unless_kw=("timeout", "block"), unless_args=1))
    add(Api("queue.Queue.join", "AM250", "asyncio.Queue"))
    add(Api("concurrent.futures.Future.result", "AM250", "asyncio.wrap_future", unless_kw=("timeout",),
            unless_args=1))
    # LLM SDKs
    add(Api("anthropic.Anthropic.*", "AM260", "anthropic.AsyncAnthropic"))
    add(Api("openai.OpenAI.*", "AM260", "openai.AsyncOpenAI"))
    for legacy in ("openai.ChatCompletion.create", "openai.Completion.create", "openai.Embedding.create"):
        add(Api(legacy, "AM260", "openai.AsyncOpenAI"))
    # LangChain / LangGraph
    for m, am in (("invoke", "ainvoke"), ("stream", "astream"), ("batch", "abatch"),
                  ("get_state", "aget_state"), ("update_state", "aupdate_state")):
        add(Api(f"langchain.Runnable.{m}", "AM270", am))
    add(Api("asyncio.get_event_loop", "AM280", "asyncio.get_running_loop"))
    return rows


APIS: tuple[Api, ...] = tuple(_rows())


# ---------------------------------------------------------------------------------------
# Index
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    api: Api
    target: str  # the concrete qualified name that matched (Type.method or module.func)


class Catalog:
    """Lookup over the tables, extended by a project's configuration."""

    def __init__(self, extra_blocking: dict[str, str] | None = None, safe: list[str] | None = None):
        self.types: dict[str, TypeInfo] = {t.name: t for t in _TYPES}
        self.alias: dict[str, str] = {}
        for t in _TYPES:
            self.alias[t.name] = t.name
            for a in t.aliases:
                self.alias[a] = t.name
        self.exact: dict[str, Api] = {}
        self.wildcard: dict[str, Api] = {}
        for api in APIS:
            if api.target.endswith(".*"):
                self.wildcard[api.target[:-2]] = api
            else:
                self.exact.setdefault(api.target, api)
        self.extra_patterns: list[tuple[str, Api]] = []
        for pattern, suggestion in (extra_blocking or {}).items():
            api = Api(pattern, "AM900", suggestion)
            if any(ch in pattern for ch in "*?["):
                self.extra_patterns.append((pattern, api))
            else:
                self.exact[pattern] = api
        self.safe_patterns = list(safe or [])

    def canonical(self, qualname: str) -> str:
        return self.alias.get(qualname, qualname)

    def family_of(self, qualname: str) -> str:
        root = qualname.split(".", 1)[0]
        return FAMILY_PREFIXES.get(root, "")

    def is_safe(self, target: str) -> bool:
        return any(fnmatch.fnmatchcase(target, p) for p in self.safe_patterns)

    def lookup_function(self, qualname: str) -> Match | None:
        api = self.exact.get(qualname)
        if api is None:
            for pattern, extra in self.extra_patterns:
                if fnmatch.fnmatchcase(qualname, pattern):
                    api = extra
                    break
        if api is None or self.is_safe(qualname):
            return None
        return Match(api, qualname)

    def lookup_method(self, type_name: str, method: str) -> Match | None:
        target = f"{type_name}.{method}"
        match = self.lookup_function(target)
        if match is not None:
            return match
        info = self.types.get(type_name)
        api = self.wildcard.get(type_name)
        if api is None or info is None or method in info.pure or method.startswith("_"):
            return None
        if self.is_safe(target):
            return None
        return Match(api, target)


def rule_pages_markdown() -> str:
    """Every finding code's page, in ruff's shape, generated from the tables above."""
    by_code: dict[str, list[str]] = {}
    for api in APIS:
        by_code.setdefault(api.code, []).append(api.target)
    out = ["# Finding codes", "",
           "Generated from `codemods/catalog.py` by `asgi-migrate rules`; do not edit by hand.", ""]
    out.append("| code | category | title | flake8-async / ruff |")
    out.append("|---|---|---|---|")
    for c in _CODES:
        out.append(f"| [{c.code}](#{c.code.lower()}) | `{c.category}` | {c.title} | "
                   f"{', '.join(c.linter_codes) or '-'} |")
    out.append("")
    for c in _CODES:
        out += [f"## {c.code}", "", f"**{c.title}** (category `{c.category}`)", "",
                "### What it does", "", f"Reports {c.title[0].lower()}{c.title[1:]}, "
                "directly or through a chain of the project's own sync functions.", "",
                "### Why is this bad?", "", c.why, "", "### Example", "", "```python", c.example, "```", "",
                "### Use instead", "", "```python", c.use_instead, "```", "", "### Fixes", "",
                f"- offload: {c.offload}"]
        if c.native:
            out.append(f"- native: {c.native}")
        if c.linter_codes:
            out.append(f"- `# noqa: {c.linter_codes[0]}` (and the other equivalent codes: "
                       f"{', '.join(c.linter_codes)}) is honoured on the line.")
        targets = sorted(by_code.get(c.code, []))
        if targets:
            out += ["", "### APIs", "", ", ".join(f"`{t}`" for t in targets)]
        out.append("")
    return "\n".join(out)
