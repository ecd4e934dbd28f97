@echo off
REM Start the NI-DCPower with Logger measurement plug-in. The NI Discovery Service runs this file (the
REM "path" of its .serviceconfig) when InstrumentStudio or TestStand first calls the plug-in; you
REM can also run it by hand (Ctrl+C stops it). It uses the project's virtual environment and
REM creates it with uv on first use. The project is two folders up, or SESSION_SHARING_ROOT when
REM this folder was copied elsewhere (e.g. to register it in C:\ProgramData\National Instruments\
REM Plug-Ins\Measurements).
setlocal
set "ROOT=%~dp0..\.."
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
".venv\Scripts\python.exe" -m measurements.nidcpower_with_logger %*
set EXITCODE=%ERRORLEVEL%
popd
exit /b %EXITCODE%
