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
  where uv >nul 2>nul || (echo uv was not found on PATH. Install it ^(winget install --id=astral-sh.uv -e^), then restart the NI Discovery Service so that it sees the new PATH. & popd & exit /b 1)
  uv sync --no-dev || (echo uv sync --no-dev failed in "%ROOT%" ^(uv's error is above^). & popd & exit /b 1)
)
".venv\Scripts\python.exe" -m results_service %*
set EXITCODE=%ERRORLEVEL%
popd
exit /b %EXITCODE%
