@echo off
REM Start the Results Database Service. The NI Discovery Service runs this file (the "path" of
REM ResultsDatabase.serviceconfig) when a client resolves ni.results.v1.database; you can also run it by hand.
REM It uses the project's virtual environment and creates it with uv on first use. The project is
REM one folder up, or SESSION_SHARING_ROOT when this folder was copied elsewhere.
setlocal
set "ROOT=%~dp0.."
if defined SESSION_SHARING_ROOT set "ROOT=%SESSION_SHARING_ROOT%"
if exist "%ROOT%\pyproject.toml" goto found
echo Cannot find the project at "%ROOT%": set SESSION_SHARING_ROOT to the project folder.
exit /b 1
:found
pushd "%ROOT%"
if not exist ".venv\Scripts\python.exe" (
  uv sync --no-dev || (echo The Results Database Service needs uv to create its environment: pip install uv & popd & exit /b 1)
)
".venv\Scripts\python.exe" -m results_service %*
set EXITCODE=%ERRORLEVEL%
popd
exit /b %EXITCODE%
