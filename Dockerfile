FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md app.yml ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY templates ./templates
# Installs the dependencies; `python -m bot` then runs the code in /app.
RUN pip install .
# Templates and app.yml are read from beside the packages.
ENV DATABASE_URL=sqlite+aiosqlite:////data/workflow-bot.db
RUN mkdir -p /data && chown nobody /data
VOLUME ["/data"]
EXPOSE 3000
USER nobody
CMD ["python", "-m", "bot", "serve"]
