"""The simulated instrument's commands: a settable output voltage and its measurement, an error
queue, and diagnostic commands that make it misbehave the ways real devices do.

==========================================  ==================================================
``*IDN?``                                   ``Simulated,SCPI Instrument,SIM0001,1.0``
``*RST`` / ``*CLS``                         output to 0 V and faults off / empty the error queue
``*OPC?``                                   ``1``
``SOURce:VOLTage <V>`` / ``SOURce:VOLTage?``  set (-10 to 10 V) / read the output voltage
``MEASure:VOLTage?``                        the output voltage, as a reading (``+2.500000E+00``)
``SYSTem:ERRor?``                           the oldest error, ``-113,"Undefined header"``, or
                                            ``0,"No error"``
``DIAGnostic:ECHO? <text>``                 ``<text>``: whose question an answer belongs to
``DIAGnostic:BLOCk? <n>``                   ``n`` bytes (every byte value, line feeds among them) as
                                            an IEEE 488.2 block ``#<d><n><bytes>``
``DIAGnostic:DELay <s>``                    answer every later query ``s`` seconds late; a
                                            command that arrives before the late answer is
                                            sent interrupts the query (below)
``DIAGnostic:GARBage``                      the next answer is bytes that are not text
``DIAGnostic:NOTERMinator``                 the next answer has no line feed
``DIAGnostic:DISConnect``                   close the connection instead of the next answer
==========================================  ==================================================

Headers are matched as SCPI says: without case, each keyword in its short (upper-case part) or
long form. A wrong command is not answered; it adds an error to the queue. A controller that sends
a command while a late answer is still owed has talked over the instrument: as IEEE 488.2 says,
the answer is dropped and ``-410,"Query INTERRUPTED"`` joins the error queue (the server sees
this; :meth:`Instrument.interrupt`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

IDENTITY = "Simulated,SCPI Instrument,SIM0001,1.0"
VOLTAGE_LIMIT = 10.0
MAX_BLOCK_BYTES = 16 * 1024 * 1024
UNDEFINED_HEADER = '-113,"Undefined header"'
DATA_OUT_OF_RANGE = '-222,"Data out of range"'
MISSING_PARAMETER = '-109,"Missing parameter"'
NO_ERROR = '0,"No error"'
QUERY_INTERRUPTED = '-410,"Query INTERRUPTED"'


class DisconnectError(Exception):
    """Close the connection now (``DIAGnostic:DISConnect``)."""


def _matches(header: str, pattern: str) -> bool:
    """Whether ``header`` spells ``pattern`` (``SOURce:VOLTage``: ``SOUR:VOLT``, ``sour:volt``)."""
    words, keywords = header.upper().split(":"), pattern.split(":")
    if len(words) != len(keywords):
        return False
    for word, keyword in zip(words, keywords, strict=True):
        short = "".join(c for c in keyword if not c.islower()).upper()
        if word not in (short, keyword.upper()):
            return False
    return True


@dataclass
class Instrument:
    """The state of one simulated instrument (kept across connections, as a real one's is)."""

    voltage: float = 0.0
    errors: list[str] = field(default_factory=list)
    delay: float = 0.0
    garbage_next: bool = False
    unterminated_next: bool = False
    disconnect_next: bool = False
    interrupted: int = 0
    """Queries interrupted so far (a controller talked over the instrument)."""

    def handle(self, line: str) -> bytes | None:
        """Run one command line; return the answer's bytes (with a line feed unless told not to), or
        None for a command that answers nothing. Raises :class:`DisconnectError`.
        """
        header, _, argument = line.strip().partition(" ")
        argument = argument.strip()
        answer = self._answer(header, argument)
        if answer is None:
            return None
        if self.disconnect_next:
            self.disconnect_next = False
            raise DisconnectError
        if self.garbage_next:
            self.garbage_next = False
            answer = b"\xff\xfe\x00garbage\x81"
        if self.unterminated_next:
            self.unterminated_next = False
            return answer
        return answer + b"\n"

    def interrupt(self) -> None:
        """A command came while an answer was owed: the answer is dropped, the error queued."""
        self.interrupted += 1
        self.errors.append(QUERY_INTERRUPTED)

    def _answer(self, header: str, argument: str) -> bytes | None:
        command = header.upper()
        if command == "*IDN?":
            return IDENTITY.encode()
        if command == "*OPC?":
            return b"1"
        if command == "*RST":
            self.voltage, self.delay = 0.0, 0.0
            self.garbage_next = self.unterminated_next = self.disconnect_next = False
            return None
        if command == "*CLS":
            self.errors.clear()
            return None
        if _matches(header, "SOURce:VOLTage"):
            self._set_voltage(argument)
            return None
        if _matches(header, "SOURce:VOLTage?") or _matches(header, "MEASure:VOLTage?"):
            return f"{self.voltage:+.6E}".encode()
        if _matches(header, "SYSTem:ERRor?"):
            return (self.errors.pop(0) if self.errors else NO_ERROR).encode()
        if _matches(header, "DIAGnostic:ECHO?"):
            return argument.encode()
        if _matches(header, "DIAGnostic:BLOCk?"):
            return self._block(argument)
        if _matches(header, "DIAGnostic:DELay"):
            self.delay = self._number(argument, 0.0, 60.0) or 0.0
            return None
        if _matches(header, "DIAGnostic:GARBage"):
            self.garbage_next = True
            return None
        if _matches(header, "DIAGnostic:NOTERMinator"):
            self.unterminated_next = True
            return None
        if _matches(header, "DIAGnostic:DISConnect"):
            self.disconnect_next = True
            return None
        self.errors.append(UNDEFINED_HEADER)
        return None

    def _set_voltage(self, argument: str) -> None:
        value = self._number(argument, -VOLTAGE_LIMIT, VOLTAGE_LIMIT)
        if value is not None:
            self.voltage = value

    def _block(self, argument: str) -> bytes | None:
        count = self._number(argument, 0, MAX_BLOCK_BYTES)
        if count is None:
            return None
        payload = bytes(index % 256 for index in range(int(count)))
        length = str(len(payload))
        return f"#{len(length)}{length}".encode() + payload

    def _number(self, argument: str, low: float, high: float) -> float | None:
        if not argument:
            self.errors.append(MISSING_PARAMETER)
            return None
        try:
            value = float(argument)
        except ValueError:
            self.errors.append(DATA_OUT_OF_RANGE)
            return None
        if not low <= value <= high:
            self.errors.append(DATA_OUT_OF_RANGE)
            return None
        return value
