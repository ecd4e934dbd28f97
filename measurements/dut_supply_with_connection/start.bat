@echo off
REM Start the DUT Supply with Connection measurement plug-in. The NI Discovery Service runs this file (the
REM "path" of its .serviceconfig) when InstrumentStudio or TestStand first calls the plug-in;
REM you can also run it by hand (Ctrl+C stops it).
REM The Python it runs, the first found of:
REM  1. SESSION_SHARING_PYTHON: a python.exe where ni-arbitrary-session-sharing is installed;
REM  2. the project's .venv, created with uv on first use. The project is two folders up, or
REM     SESSION_SHARING_ROOT when this folder was copied elsewhere;
REM  3. the Python this folder was installed into by pip or uv, when it is
REM     <environment>\Lib\site-packages\measurements.dut_supply_with_connection.
setlocal
set "ROOT=%~dp0..\.."
set "PREFIX=%~dp0..\..\..\.."
if defined SESSION_SHARING_PYTHON (set "PYTHON=%SESSION_SHARING_PYTHON%" & goto run)
if defined SESSION_SHARING_ROOT set "ROOT=%SESSION_SHARING_ROOT%"
if exist "%ROOT%\pyproject.toml" goto project
if exist "%PREFIX%\Scripts\python.exe" (set "PYTHON=%PREFIX%\Scripts\python.exe" & goto run)
if exist "%PREFIX%\python.exe" (set "PYTHON=%PREFIX%\python.exe" & goto run)
echo Cannot find the project at "%ROOT%" nor an installed Python above "%~dp0". Set SESSION_SHARING_ROOT to the project folder, or SESSION_SHARING_PYTHON to a python.exe where ni-arbitrary-session-sharing is installed.
exit /b 1
:project
pushd "%ROOT%"
set "PUSHED=1"
if not exist ".venv\Scripts\python.exe" (
  where uv >nul 2>nul || (echo uv was not found on PATH. Install it ^(winget install --id=astral-sh.uv -e^), then restart the NI Discovery Service so that it sees the new PATH. & popd & exit /b 1)
  uv sync --no-dev || (echo uv sync --no-dev failed in "%ROOT%" ^(uv's error is above^). & popd & exit /b 1)
)
set "PYTHON=.venv\Scripts\python.exe"
:run
"%PYTHON%" -m measurements.dut_supply_with_connection %*
set EXITCODE=%ERRORLEVEL%
if defined PUSHED popd
exit /b %EXITCODE%
