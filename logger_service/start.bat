@echo off
REM Start the JSON Logger Service. The NI Discovery Service runs this file (the "path" of
REM JsonLogger.serviceconfig) when a client resolves ni.logger.v1.json; you can also run it by hand.
REM It uses the project's virtual environment and creates it with uv on first use.
setlocal
pushd "%~dp0.."
if not exist ".venv\Scripts\python.exe" (
  uv sync --no-dev || (echo The JSON Logger Service needs uv to create its environment: pip install uv & popd & exit /b 1)
)
".venv\Scripts\python.exe" -m logger_service %*
set EXITCODE=%ERRORLEVEL%
popd
exit /b %EXITCODE%
