"""The one place a SparkSession is built from configuration."""
from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

from corpusforge.conf import Config


def under_spark_submit() -> bool:
    """spark-submit starts the JVM first and hands Python its gateway; its --master must win."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def build_session(cfg: Config) -> SparkSession:
    spark_cfg = cfg.spark
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(spark_cfg.app_name)
    if not under_spark_submit():
        builder = builder.master(spark_cfg.master).config("spark.driver.memory", spark_cfg.driver_memory)
        if spark_cfg.master.startswith("local"):  # keep a laptop's driver on loopback
            builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
            if spark_cfg.local_java_options:  # the one JVM of a local run: driver and executors
                builder = builder.config("spark.driver.extraJavaOptions", spark_cfg.local_java_options)
    settings = {
        "spark.sql.shuffle.partitions": spark_cfg.shuffle_partitions,
        "spark.sql.adaptive.enabled": True,
        "spark.sql.adaptive.coalescePartitions.enabled": True,
        "spark.sql.execution.arrow.pyspark.enabled": True,
        "spark.sql.execution.arrow.maxRecordsPerBatch": spark_cfg.arrow_batch_rows,
        "spark.python.worker.reuse": spark_cfg.python_worker_reuse,
        "spark.sql.session.timeZone": "UTC",
        # Python workers are where the text work happens; let the JVM know they need room.
        "spark.sql.execution.pythonUDF.arrow.enabled": True,
        "spark.ui.showConsoleProgress": False,
    }
    settings.update(spark_cfg.extra)
    for key, value in settings.items():
        builder = builder.config(key, str(value).lower() if isinstance(value, bool) else str(value))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
